//! `srp-bridge`: see README.md. Started by the browser as a native-messaging host (or by hand
//! with `native-host`), it listens on loopback for `http://HOST.PORT.localhost:PORT/` and takes
//! login, logout and status messages on its standard input; `install` writes the host
//! manifests for Chromium and Firefox.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Parser, Subcommand};
use srp_bridge::control::{self, Reply};
use srp_bridge::install;
use srp_bridge::native::{self, FrameError};
use srp_bridge::proxy::Bridge;

/// Where the bridge listens unless told otherwise (stable, so device URLs and their cookies
/// survive a browser restart).
const DEFAULT_LISTEN: &str = "127.0.0.1:7425";

#[derive(Parser)]
#[command(about = "TLS-SRP bridge: the browser reaches devices over TLS-SRP through it", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run as the native-messaging host (what the browser starts): control messages on
    /// standard input and output, HTTP on LISTEN.
    NativeHost {
        /// Loopback address and port (default: $SRP_BRIDGE_LISTEN, else 127.0.0.1:7425; port 0
        /// picks a free one, reported in `status`).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Write the host manifests for Chromium (and Google Chrome) and Firefox, for this user.
    Install {
        /// The Chromium extension id allowed to connect (repeatable). Without one, no Chromium
        /// manifest is written.
        #[arg(long = "chromium-extension-id")]
        chromium: Vec<String>,
        /// The Firefox add-on id allowed to connect (repeatable; default: the TLS-SRP
        /// extension's).
        #[arg(long = "firefox-extension-id")]
        firefox: Vec<String>,
        /// The home directory to install into (default: $HOME).
        #[arg(long)]
        home: Option<PathBuf>,
        /// The program the manifests start (default: this program).
        #[arg(long)]
        program: Option<PathBuf>,
    },
    /// Remove the host manifests `install` writes.
    Uninstall {
        #[arg(long)]
        home: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if install::started_by_browser(&args) {
        return native_host(None);
    }
    match Cli::parse().command {
        Command::NativeHost { listen } => native_host(listen),
        Command::Install { chromium, firefox, home, program } => {
            report(install_manifests(chromium, firefox, home, program))
        }
        Command::Uninstall { home } => report(uninstall(home)),
    }
}

fn report(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("srp-bridge: {e}");
            ExitCode::FAILURE
        }
    }
}

fn home_dir(home: Option<PathBuf>) -> Result<PathBuf, String> {
    home.or_else(|| std::env::var_os("HOME").map(PathBuf::from))
        .ok_or_else(|| "no home directory: pass --home".to_owned())
}

fn install_manifests(
    chromium: Vec<String>,
    mut firefox: Vec<String>,
    home: Option<PathBuf>,
    program: Option<PathBuf>,
) -> Result<(), String> {
    let home = home_dir(home)?;
    if let Some(bad) = chromium.iter().find(|id| !install::valid_chromium_id(id)) {
        return Err(format!("{bad:?} is not a Chromium extension id (32 letters a to p)"));
    }
    if firefox.is_empty() {
        firefox.push(install::FIREFOX_EXTENSION_ID.to_owned());
    }
    let program = match program {
        Some(p) => p,
        None => std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?,
    };
    let program =
        std::fs::canonicalize(&program).map_err(|e| format!("{}: {e}", program.display()))?;
    for (path, manifest) in install::manifests(&home, &program, &chromium, &firefox) {
        let dir = path.parent().ok_or("a manifest path without a folder")?;
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())? + "\n";
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

fn uninstall(home: Option<PathBuf>) -> Result<(), String> {
    let home = home_dir(home)?;
    let file = format!("{}.json", install::HOST_NAME);
    for dir in install::CHROMIUM_DIRS.iter().chain(install::FIREFOX_DIRS) {
        let path = home.join(dir).join(&file);
        match std::fs::remove_file(&path) {
            Ok(()) => println!("removed {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("removing {}: {e}", path.display())),
        }
    }
    Ok(())
}

/// What the reader thread hands to the control loop.
enum Incoming {
    Request(control::Request),
    Malformed(control::Malformed),
    End(FrameError),
}

fn native_host(listen: Option<SocketAddr>) -> ExitCode {
    let listen = match listen {
        Some(l) => l,
        None => match std::env::var("SRP_BRIDGE_LISTEN")
            .ok()
            .as_deref()
            .unwrap_or(DEFAULT_LISTEN)
            .parse()
        {
            Ok(l) => l,
            Err(e) => {
                eprintln!("srp-bridge: SRP_BRIDGE_LISTEN: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    // Standard output carries the messages: nothing else may be written to it.
    let stdout = Arc::new(Mutex::new(std::io::stdout()));
    let emit: Arc<dyn Fn(Reply) + Send + Sync> = {
        let stdout = stdout.clone();
        Arc::new(move |reply: Reply| {
            let bytes = match serde_json::to_vec(&reply) {
                Ok(bytes) => bytes,
                Err(e) => {
                    eprintln!("srp-bridge: cannot encode a reply: {e}");
                    return;
                }
            };
            let mut out = stdout.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = native::write_frame(&mut *out, &bytes) {
                // The browser is gone: nothing is left to serve.
                eprintln!("srp-bridge: writing to the browser failed ({e}); exiting");
                std::process::exit(0);
            }
        })
    };
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("srp-bridge: cannot start: {e}");
                return ExitCode::FAILURE;
            }
        };
    let code = runtime.block_on(async move {
        let (bridge, listener) = match Bridge::bind(listen, emit.clone()).await {
            Ok(bound) => bound,
            Err(e) => {
                eprintln!("srp-bridge: cannot listen on {listen}: {e}");
                emit(Reply::Error {
                    id: None,
                    error: "listen-failed",
                    message: format!("cannot listen on {listen}: {e}"),
                });
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "srp-bridge: listening on {} (devices at http://HOST.PORT.localhost:{}/)",
            bridge.info().listen,
            bridge.port()
        );
        tokio::spawn(bridge.clone().serve(listener));

        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            loop {
                let item = match native::read_frame(&mut stdin) {
                    Ok(frame) => match control::parse_request(&frame.0) {
                        Ok(request) => Incoming::Request(request),
                        Err(malformed) => Incoming::Malformed(malformed),
                    },
                    Err(end) => Incoming::End(end),
                };
                let last = matches!(item, Incoming::End(_));
                if tx.send(item).is_err() || last {
                    break;
                }
            }
        });
        while let Some(item) = rx.recv().await {
            match item {
                Incoming::Request(request) => {
                    let reply = bridge.control(request).await;
                    emit(reply);
                }
                Incoming::Malformed(m) => {
                    eprintln!("srp-bridge: a malformed control message: {}", m.what);
                    emit(Reply::Error { id: m.id, error: "malformed-message", message: m.what });
                }
                Incoming::End(FrameError::Closed) => {
                    eprintln!("srp-bridge: the browser closed the connection; exiting");
                    return ExitCode::SUCCESS;
                }
                Incoming::End(e) => {
                    eprintln!("srp-bridge: {e}; exiting");
                    let error = if matches!(e, FrameError::TooLarge(_)) {
                        "message-too-large"
                    } else {
                        "malformed-message"
                    };
                    emit(Reply::Error { id: None, error, message: e.to_string() });
                    return ExitCode::FAILURE;
                }
            }
        }
        ExitCode::SUCCESS
    });
    stdout.lock().unwrap_or_else(|p| p.into_inner()).flush().ok();
    // Open connections and the listener go with the process; credentials are never on disk.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}
