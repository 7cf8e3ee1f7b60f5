//! `cargo xtask chromium net-tests`: the series' own `//net` unit tests, run in a partial test
//! binary, where `net_unittests` itself cannot be built (hours of compiling on two cores, and
//! its `net/base/pickle_unittest.cc` does not compile with Debian's libc++).
//!
//! The binary links the series' test objects with what they call: every object of `//net`,
//! its test support, `//url`, googletest, `//base`'s test support, and the archives (`//base`,
//! `//crypto`, BoringSSL with the core, ICU) and link flags of a `//net` tool that Chromium's
//! own build links (`root_store_tool`), and QUIC and HTTP/2 (`//net/third_party/quiche`). It
//! leaves out the rest of `net_unittests`' dependencies: each symbol still undefined gets a
//! stub that aborts naming it ("... is not linked"), so a test that reaches one fails loudly
//! instead of passing; a few set-up steps of `NetTestSuite` that need what is left out (QUIC's
//! flag checks, the test fonts) do nothing.
//! The main is `NetTestSuite` without the test launcher, whose build-date check refuses a
//! tarball's build. What runs is the tests' own code against the patched `//net` and BoringSSL
//! (real TLS-SRP handshakes over in-process sockets), not a stand-in; what does not link is
//! listed in `undefined.txt` beside the binary.

use std::fs;
use std::path::Path;

use anyhow::{Context, ensure};
use xshell::{Shell, cmd};

/// The series' test objects in `net_unittests` that the binary runs: every one of `//net`'s
/// (patches 0004-0009, 0011-0013, 0015, 0016 and 0018).
const TEST_OBJECTS: &[&str] = &[
    "obj/net/net_unittests/net_errors_unittest.o",
    "obj/net/net_unittests/http_cache_unittest.o",
    "obj/net/net_unittests/http_network_transaction_unittest.o",
    "obj/net/net_unittests/http_stream_factory_job_controller_unittest.o",
    "obj/net/net_unittests/http_stream_pool_attempt_manager_unittest.o",
    "obj/net/net_unittests/url_request_http_job_unittest.o",
    "obj/net/net_unittests/ssl_client_socket_unittest.o",
    "obj/net/net_unittests/ssl_server_socket_unittest.o",
    "obj/net/net_unittests/ssl_srp_credential_cache_unittest.o",
    "obj/net/net_unittests/ssl_srp_destination_unittest.o",
    "obj/net/net_unittests/tls_srp_upgrade_unittest.o",
];

/// The default filter: the series' tests, and upstream's client and server socket tests and
/// net error tests around them.
pub const DEFAULT_FILTER: &str = "*SSLClientSocket*:*SSLServerSocket*:*Srp*:NetErrorsTest.*";

/// Ninja files (under `out/obj`) whose objects are all linked.
const SOURCE_SETS: &[&str] = &[
    "net/net.ninja",
    "net/test_support.ninja",
    "net/dns/dns.ninja",
    "net/dns/test_support.ninja",
    "net/dns/public/public.ninja",
    "net/gtest_util.ninja",
    "net/isolation_info_proto.ninja",
    "net/net_nqe_proto.ninja",
    "net/reporting_policy_proto.ninja",
    "net/shared_dictionary_info.ninja",
    "net/canonical_cookie_proto.ninja",
    "net/device_bound_sessions_storage_proto.ninja",
    "net/third_party/uri_template/uri_template.ninja",
    "net/third_party/quiche/quiche.ninja",
    "net/third_party/quiche/quiche_test_support.ninja",
    "net/third_party/quiche/net_quic_proto.ninja",
    "net/third_party/quiche/net_quic_test_tools_proto.ninja",
    "net/third_party/quiche/blind_sign_auth.ninja",
    "net/third_party/quiche/blind_sign_auth_proto.ninja",
    "net/quic_test_tools.ninja",
    "net/base/registry_controlled_domains.ninja",
    "net/http/transport_security_state_generated_files.ninja",
    "net/cert/root_store_proto_lite.ninja",
    "crypto/test_support.ninja",
    "base/i18n.ninja",
    "base/test/test_support.ninja",
    "base/test/test_config.ninja",
    "base/test/scoped_feature_list_cxx_generated.ninja",
    "base/test/scoped_feature_list_shim.ninja",
    "base/test/task_environment_cxx_generated.ninja",
    "base/test/task_environment_shim.ninja",
    "url/url.ninja",
    "third_party/googletest/gtest.ninja",
    "third_party/googletest/gmock.ninja",
];

/// Single objects and archives linked besides.
const EXTRA_INPUTS: &[&str] = &[
    // net_unittests' own helpers that those tests use (mock proxies, QUIC and HTTP/2 test
    // data, socket pool test utilities); not its tools, fuzzers or other tests.
    "obj/net/net_unittests/connect_job_test_util.o",
    "obj/net/net_unittests/fake_proxy_delegate.o",
    "obj/net/net_unittests/http_auth_handler_mock.o",
    "obj/net/net_unittests/mock_allow_http_auth_preferences.o",
    "obj/net/net_unittests/mock_client_socket_pool_manager.o",
    "obj/net/net_unittests/mock_quic_data.o",
    "obj/net/net_unittests/mock_session_service.o",
    "obj/net/net_unittests/mock_session_store.o",
    "obj/net/net_unittests/quic_chromium_client_session_peer.o",
    "obj/net/net_unittests/quic_session_pool_peer.o",
    "obj/net/net_unittests/quic_socket_data_provider.o",
    "obj/net/net_unittests/quic_test_packet_maker.o",
    "obj/net/net_unittests/quic_test_packet_printer.o",
    "obj/net/net_unittests/spdy_session_test_util.o",
    "obj/net/net_unittests/spdy_stream_test_util.o",
    "obj/net/net_unittests/test_proxy_delegate.o",
    "obj/net/net_unittests/test_quic_crypto_client_config_handle.o",
    "obj/net/net_unittests/transport_client_socket_pool_test_util.o",
    "obj/third_party/icu/libicui18n.a",
    "obj/third_party/icu/libicuuc.a",
];

/// Objects of those sets left out: Google Benchmark's static initializer (not linked).
const LEFT_OUT: &[&str] = &["obj/base/test/test_support/perf_test_suite.o"];

/// The link whose archives and flags the binary borrows: a `//net` tool of Chromium's build.
const BORROWED_LINK: (&str, &str) =
    ("net/tools/root_store_tool/root_store_tool.ninja", "./root_store_tool");

/// Undefined functions that do nothing instead of aborting: `NetTestSuite`'s set-up of what is
/// not linked (QUIC's flags, the test fonts, which the tarball lacks).
const NO_OPS: &[&str] = &[
    "test_fonts::SetUpFontconfig()",
    "test_fonts::TearDownFontconfig()",
    "QuicFlagChecker::QuicFlagChecker()",
    "QuicFlagChecker::~QuicFlagChecker()",
    "QuicFlagSaverImpl::QuicFlagSaverImpl()",
    "QuicFlagSaverImpl::~QuicFlagSaverImpl()",
];

const MAIN: &str = "\
// The main of the partial test binary of `cargo xtask chromium net-tests`: NetTestSuite
// without the test launcher (whose build-date check refuses a tarball's build).
#include \"net/test/net_test_suite.h\"

int main(int argc, char** argv) {
  NetTestSuite test_suite(argc, argv);
  return test_suite.Run();
}
";

/// The outputs of a Ninja file's compile steps (`build obj/....o: cxx ...`).
fn objects_of(ninja: &str) -> Vec<String> {
    ninja
        .lines()
        .filter_map(|l| l.strip_prefix("build "))
        .filter_map(|l| l.split_once(": ").map(|(out, _)| out))
        .filter(|out| out.ends_with(".o") && !out.contains(' '))
        .map(str::to_owned)
        .collect()
}

/// A file-level variable of a Ninja file (`name = value`).
fn file_var(ninja: &str, name: &str) -> anyhow::Result<String> {
    let prefix = format!("{name} = ");
    ninja
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
        .with_context(|| format!("no {name} in the Ninja file"))
}

/// A Ninja build statement: its inputs (before `|`) and its variables.
type Edge = (Vec<String>, Vec<(String, String)>);

/// The build statement of `output`.
fn edge(ninja: &str, output: &str) -> anyhow::Result<Edge> {
    let start = format!("build {output}: ");
    let mut lines = ninja.lines().skip_while(|l| !l.starts_with(&start));
    let first = lines.next().with_context(|| format!("no build statement of {output}"))?;
    let inputs = first[start.len()..].split(" | ").next().unwrap_or_default();
    let inputs = inputs.split_whitespace().skip(1).map(str::to_owned).collect();
    let vars = lines
        .map_while(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Ok((inputs, vars))
}

/// Whether a demangled symbol names data (a vtable, type information, a variable) rather than
/// a function.
fn is_data(mangled: &str, demangled: &str) -> bool {
    const DATA: &[&str] = &[
        "vtable for",
        "typeinfo for",
        "typeinfo name for",
        "guard variable for",
        "VTT for",
        "construction vtable",
    ];
    DATA.iter().any(|d| demangled.starts_with(d))
        || (mangled.starts_with("_Z") && !demangled.contains('('))
}

/// A C file defining every symbol of `undefined` (mangled, demangled): functions abort naming
/// themselves (those of [`NO_OPS`] return), data is zeroed memory.
fn stubs(undefined: &[(String, String)]) -> String {
    let mut c = String::from(
        "#include <stdio.h>\n#include <stdlib.h>\n\
         __attribute__((noreturn)) static void not_linked(const char* symbol) {\n  \
         fprintf(stderr, \"net-tests: %s is not linked\\n\", symbol);\n  abort();\n}\n",
    );
    for (i, (mangled, demangled)) in undefined.iter().enumerate() {
        let quoted = demangled.replace('\\', "\\\\").replace('"', "\\\"");
        if NO_OPS.contains(&demangled.as_str()) {
            c += &format!("void f{i}(void) __asm__(\"{mangled}\");\nvoid f{i}(void) {{}}\n");
        } else if is_data(mangled, demangled) {
            c += &format!("__attribute__((aligned(64))) char d{i}[4096] __asm__(\"{mangled}\");\n");
        } else {
            c += &format!(
                "void f{i}(void) __asm__(\"{mangled}\");\nvoid f{i}(void) {{ not_linked(\"{quoted}\"); }}\n"
            );
        }
    }
    c
}

/// Builds the objects, links the binary (stubbing what is left undefined) and runs the tests
/// `filter` selects, in `out` with the environment `env` (the toolchain's).
pub fn run(
    sh: &Shell,
    tree: &Path,
    out: &Path,
    env: &[(String, String)],
    filter: &str,
) -> anyhow::Result<()> {
    let read = |file: &Path| -> anyhow::Result<String> {
        let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let mut objects: Vec<String> = TEST_OBJECTS.iter().map(|s| (*s).to_owned()).collect();
    for set in SOURCE_SETS {
        objects.extend(objects_of(&read(&out.join("obj").join(set))?));
    }
    objects.retain(|o| !LEFT_OUT.contains(&o.as_str()));
    let to_build: Vec<&str> = objects
        .iter()
        .map(String::as_str)
        .chain(EXTRA_INPUTS.iter().copied())
        .filter(|o| o.ends_with(".o"))
        .collect();
    crate::step(&format!(
        "ninja: the {} objects of the partial test binary (the first run builds //net's: about \
         an hour on 2 cores after compile-check --only net/)",
        to_build.len()
    ));
    cmd!(sh, "ninja -C {out} {to_build...}").envs(env.to_vec()).run()?;

    let dir = out.parent().context("no parent")?.join("net-tests");
    fs::create_dir_all(&dir)?;
    // The main, compiled as net_unittests' objects are.
    let unittests = read(&out.join("obj/net/net_unittests.ninja"))?;
    let toolchain = read(&out.join("toolchain.ninja"))?;
    let cxx = toolchain
        .split("\nrule cxx\n  command = ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .context("no cxx rule in toolchain.ninja")?;
    let main_cc = dir.join("main.cc");
    fs::write(&main_cc, MAIN)?;
    let main_o = dir.join("main.o");
    let mut command = cxx.replace(
        "${target_out_dir}/${label_name}/${source_name_part}.o",
        &main_o.to_string_lossy(),
    );
    for var in ["defines", "include_dirs", "cflags_cc", "cflags"] {
        command = command.replace(&format!("${{{var}}}"), &file_var(&unittests, var)?);
    }
    command = command
        .replace("${in}", &main_cc.to_string_lossy())
        .replace("${label_name}", "net_unittests")
        .replace("${module_deps}", "");
    ensure!(!command.contains("${"), "unexpanded variable in {command}");
    crate::step("compiling the main (NetTestSuite)");
    {
        let _d = sh.push_dir(out);
        cmd!(sh, "sh -c {command}").run()?;
    }

    // The borrowed link: its archives and flags, without its own objects.
    let (file, output) = BORROWED_LINK;
    let (inputs, vars) = edge(&read(&out.join("obj").join(file))?, output)?;
    let var = |name: &str| -> Vec<String> {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let tool_dir = format!("obj/{}/", Path::new(file).parent().context("no parent")?.display());
    let archives: Vec<String> = inputs
        .into_iter()
        .filter(|i| !i.starts_with(&tool_dir) && !i.contains("root_store_proto_full"))
        .collect();
    // Chromium's flags, less those that refuse what is left undefined or drop the stubs.
    let ldflags: Vec<String> = var("ldflags")
        .into_iter()
        .filter(|f| {
            !["-Wl,-z,defs", "-Wl,--fatal-warnings", "-Wl,--gc-sections"].contains(&f.as_str())
        })
        .collect();
    let libs = var("libs");
    let rlibs: Vec<String> = var("rlibs").into_iter().filter(|r| out.join(r).exists()).collect();
    let mut rsp: Vec<String> = vec![main_o.to_string_lossy().into_owned()];
    rsp.extend(objects.iter().cloned());
    rsp.extend(EXTRA_INPUTS.iter().map(|s| (*s).to_owned()));
    rsp.extend(archives);
    let binary = dir.join("srp_net_tests");
    let link = |extra: Option<&Path>| -> anyhow::Result<std::process::Output> {
        let mut inputs = rsp.clone();
        inputs.extend(extra.map(|p| p.to_string_lossy().into_owned()));
        let rsp_file = dir.join("inputs.rsp");
        fs::write(&rsp_file, inputs.join("\n"))?;
        let rsp_arg = format!("@{}", rsp_file.display());
        let _d = sh.push_dir(out);
        let (ldflags, libs, rlibs) = (&ldflags, &libs, &rlibs);
        Ok(cmd!(
            sh,
            "clang++-19 {ldflags...} -stdlib=libc++ -static-libstdc++ -Wl,--no-demangle
             -Wl,--error-limit=0 -o {binary} -Wl,--start-group {rsp_arg} -Wl,--end-group {libs...}
             -Wl,--start-group {rlibs...} -Wl,--end-group"
        )
        .quiet()
        .ignore_status()
        .output()?)
    };
    crate::step("linking, first to learn what is left undefined");
    let first = link(None)?;
    let stderr = String::from_utf8_lossy(&first.stderr);
    let mut mangled: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.split_once("undefined symbol: ").map(|(_, s)| s.trim().to_owned()))
        .collect();
    mangled.sort();
    mangled.dedup();
    let other: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            l.contains("error:")
                && !l.contains("undefined symbol")
                && !l.contains("linker command failed")
        })
        .collect();
    ensure!(other.is_empty(), "the link failed otherwise:\n{}", other.join("\n"));
    let names = mangled.join("\n");
    let demangled = cmd!(sh, "llvm-cxxfilt-19").stdin(&names).quiet().read()?;
    let undefined: Vec<(String, String)> =
        mangled.iter().cloned().zip(demangled.lines().map(str::to_owned)).collect();
    ensure!(undefined.len() == mangled.len(), "llvm-cxxfilt-19 named fewer symbols");
    fs::write(
        dir.join("undefined.txt"),
        undefined.iter().map(|(_, d)| format!("{d}\n")).collect::<String>(),
    )?;
    let stubs_c = dir.join("stubs.c");
    fs::write(&stubs_c, stubs(&undefined))?;
    let stubs_o = dir.join("stubs.o");
    cmd!(sh, "clang-19 -fPIC -c {stubs_c} -o {stubs_o}").quiet().run()?;
    crate::step(&format!(
        "linking {} with {} stubs (listed in {})",
        binary.display(),
        undefined.len(),
        dir.join("undefined.txt").display()
    ));
    let second = link(Some(&stubs_o))?;
    ensure!(
        second.status.success(),
        "the link failed:\n{}",
        String::from_utf8_lossy(&second.stderr)
    );
    // ICU's data, where //base looks for it: beside the binary.
    let icu = dir.join("icudtl.dat");
    if icu.symlink_metadata().is_ok() {
        fs::remove_file(&icu)?;
    }
    std::os::unix::fs::symlink(out.join("icudtl.dat"), &icu)?;

    crate::step(&format!("{} --gtest_filter={filter}", binary.display()));
    let _d = sh.push_dir(out);
    let filter_arg = format!("--gtest_filter={filter}");
    cmd!(sh, "timeout 900 {binary} {filter_arg}")
        .env("CR_SOURCE_ROOT", tree)
        .run()
        .context("the tests failed (or reached something not linked)")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_and_link_edges_of_ninja_files() {
        let ninja = "defines = -DA\n\
                     build obj/net/net/a.o: cxx ../tree/net/a.cc || obj/x.stamp\n  \
                     source_file_part = a.cc\n\
                     build obj/net/net/b.o: cxx ../tree/net/b.cc\n\
                     build ./tool: link obj/t/main.o obj/base/libbase.a | ../tree/x.py\n  \
                     ldflags = -pie -Wl,-z,defs\n  libs = -ldl\n\
                     build obj/x.stamp: stamp obj/net/net/a.o\n";
        assert_eq!(objects_of(ninja), ["obj/net/net/a.o", "obj/net/net/b.o"]);
        assert_eq!(file_var(ninja, "defines").unwrap(), "-DA");
        let (inputs, vars) = edge(ninja, "./tool").unwrap();
        assert_eq!(inputs, ["obj/t/main.o", "obj/base/libbase.a"]);
        assert_eq!(vars[0], ("ldflags".to_owned(), "-pie -Wl,-z,defs".to_owned()));
        assert_eq!(vars[1], ("libs".to_owned(), "-ldl".to_owned()));
    }

    #[test]
    fn stubs_abort_naming_the_symbol_or_do_nothing() {
        let undefined = [
            ("_ZN3net4FooEv".to_owned(), "net::Foo()".to_owned()),
            ("_ZTVN3net3BarE".to_owned(), "vtable for net::Bar".to_owned()),
            ("_ZN3net7kConstE".to_owned(), "net::kConst".to_owned()),
            (
                "_ZN15QuicFlagCheckerC1Ev".to_owned(),
                "QuicFlagChecker::QuicFlagChecker()".to_owned(),
            ),
        ];
        let c = stubs(&undefined);
        assert!(c.contains("void f0(void) { not_linked(\"net::Foo()\"); }"));
        assert!(c.contains("char d1[4096] __asm__(\"_ZTVN3net3BarE\");"));
        assert!(c.contains("char d2[4096] __asm__(\"_ZN3net7kConstE\");"));
        assert!(c.contains("void f3(void) {}"));
    }
}
