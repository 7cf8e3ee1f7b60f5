//! Ninja's build graph, read from the files `gn gen` writes, for what one `ninja` run cannot
//! tell: which outputs need a file that is missing. Ninja refuses a whole run when one target
//! needs such a file ("missing and no known rule to make it"), and the Debian tarball leaves
//! out test data that Chromium's test targets need (`chrome/test/data/...`), so
//! `compile-check` first sets those objects apart, builds the generated headers of their
//! dependencies, and compiles them with their own commands.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use anyhow::Context;

/// The build statements of a Ninja manifest and the files it includes: for each path, the
/// statement that produces it, and for each statement, its inputs (explicit, implicit and
/// order-only; not validations).
#[derive(Default)]
pub struct Graph {
    ids: HashMap<String, usize>,
    names: Vec<String>,
    producer: Vec<Option<usize>>,
    inputs: Vec<Vec<usize>>,
    /// Whether each statement only groups its inputs (rules `stamp` and `phony`).
    groups: Vec<bool>,
}

/// What [`Graph::blocked`] found for a path: nothing missing, or the first missing file
/// (relative to the output folder) it needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Needs {
    Nothing,
    Missing(String),
}

impl Graph {
    /// The graph of `<out>/build.ninja` and every file it includes (`subninja`, `include`).
    pub fn load(out: &Path) -> anyhow::Result<Graph> {
        let mut graph = Graph::default();
        let mut files = vec!["build.ninja".to_owned()];
        while let Some(file) = files.pop() {
            let path = out.join(&file);
            let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            // Paths are bytes to Ninja; a file name that is not UTF-8 only has to stay
            // distinct.
            files.extend(graph.parse(&String::from_utf8_lossy(&bytes)));
        }
        Ok(graph)
    }

    /// Adds the build statements of one manifest's `text`; returns the files it includes.
    pub fn parse(&mut self, text: &str) -> Vec<String> {
        let mut included = Vec::new();
        let mut lines = text.split('\n');
        while let Some(first) = lines.next() {
            // Only statements matter; the variables (most of the text) are skipped unread.
            // Their continued lines are indented, so none of them starts a statement.
            if !["build ", "subninja ", "include "].iter().any(|s| first.starts_with(s)) {
                continue;
            }
            // A `$` at the end of a line continues it on the next (and is not an escaped `$`).
            let mut line = first.to_owned();
            while ends_in_continuation(&line) {
                line.pop();
                match lines.next() {
                    Some(next) => line.push_str(next.trim_start()),
                    None => break,
                }
            }
            if let Some(statement) = line.strip_prefix("build ") {
                self.add_statement(statement);
            } else if let Some(file) = line
                .strip_prefix("subninja ")
                .or_else(|| line.strip_prefix("include "))
                .and_then(|file| tokens(file).into_iter().next())
            {
                included.push(file);
            }
        }
        included
    }

    fn id(&mut self, name: &str) -> usize {
        let name = &canonical(name);
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len();
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        self.producer.push(None);
        id
    }

    /// `outputs [| implicit outputs]: rule inputs [| implicit] [|| order-only] [|@ validations]`
    fn add_statement(&mut self, statement: &str) {
        let Some(colon) = unescaped_colon(statement) else {
            return;
        };
        let edge = self.inputs.len();
        for output in tokens(&statement[..colon]) {
            if output != "|" {
                let id = self.id(&output);
                self.producer[id] = Some(edge);
            }
        }
        let mut inputs = Vec::new();
        let mut rest = tokens(&statement[colon + 1..]).into_iter();
        let rule = rest.next().unwrap_or_default();
        self.groups.push(rule == "stamp" || rule == "phony");
        for input in rest.by_ref() {
            match input.as_str() {
                "|" | "||" => {}
                "|@" => break,
                _ => inputs.push(self.id(&input)),
            }
        }
        self.inputs.push(inputs);
    }

    /// For each of `targets`, whether it needs, through the statements that produce it and
    /// its inputs, a file that no statement produces and that is not in `out`.
    pub fn blocked(&self, out: &Path, targets: &[&str]) -> Vec<Needs> {
        let mut memo: HashMap<usize, Needs> = HashMap::new();
        targets
            .iter()
            .map(|target| match self.ids.get(&canonical(target)) {
                Some(&id) => self.needs(out, id, &mut memo),
                None => Needs::Nothing,
            })
            .collect()
    }

    fn needs(&self, out: &Path, node: usize, memo: &mut HashMap<usize, Needs>) -> Needs {
        if let Some(found) = memo.get(&node) {
            return found.clone();
        }
        // Depth-first, without recursion: the graph is deep. A node is decided once all the
        // inputs of its statement are.
        let mut stack = vec![(node, 0usize)];
        while let Some(&(current, first)) = stack.last() {
            if memo.contains_key(&current) {
                stack.pop();
                continue;
            }
            let Some(edge) = self.producer[current] else {
                let name = &self.names[current];
                let found = if out.join(name).exists() {
                    Needs::Nothing
                } else {
                    Needs::Missing(name.clone())
                };
                memo.insert(current, found);
                stack.pop();
                continue;
            };
            let inputs = &self.inputs[edge];
            // Skip the inputs decided as needing nothing; stop at a missing one or at one
            // still to decide.
            let mut next = first;
            let mut found = None;
            while let Some(&input) = inputs.get(next) {
                match memo.get(&input) {
                    Some(Needs::Nothing) => next += 1,
                    Some(missing) => {
                        found = Some(missing.clone());
                        break;
                    }
                    None => break,
                }
            }
            if next == inputs.len() {
                found = Some(Needs::Nothing);
            }
            if let Some(found) = found {
                memo.insert(current, found);
                stack.pop();
                continue;
            }
            if let Some(last) = stack.last_mut() {
                last.1 = next;
            }
            let input = inputs[next];
            // A cycle (Ninja would refuse it) is taken as needing nothing.
            if stack.iter().any(|&(n, _)| n == input) {
                memo.insert(input, Needs::Nothing);
            } else {
                stack.push((input, 0));
            }
        }
        memo[&node].clone()
    }

    /// The generated headers that `target` may include and Ninja can build: those its
    /// statement needs through statements that only group their inputs (gn's stamps), which
    /// need nothing missing themselves. A compile needs no more of its order-only
    /// dependencies: the objects, libraries and other outputs those stamps also group are
    /// left out.
    pub fn buildable_dependencies(&self, out: &Path, target: &str) -> Vec<String> {
        const HEADERS: &[&str] = &[".h", ".hh", ".hpp", ".inc", ".def"];
        let Some(&start) = self.ids.get(&canonical(target)) else {
            return Vec::new();
        };
        let mut memo = HashMap::new();
        let mut seen = std::collections::HashSet::from([start]);
        let mut to_visit = vec![start];
        let mut buildable = Vec::new();
        while let Some(node) = to_visit.pop() {
            let Some(edge) = self.producer[node] else {
                continue;
            };
            for &input in &self.inputs[edge] {
                if !seen.insert(input) {
                    continue;
                }
                let Some(producer) = self.producer[input] else {
                    continue;
                };
                if self.groups[producer] {
                    to_visit.push(input);
                } else if HEADERS.iter().any(|h| self.names[input].ends_with(h))
                    && self.needs(out, input, &mut memo) == Needs::Nothing
                {
                    buildable.push(self.names[input].clone());
                }
            }
        }
        buildable.sort();
        buildable
    }
}

/// `path` as Ninja canonicalizes it: without `.` components, empty ones, or `..` after a
/// folder name (`./a`, `a//b/../c` and `a/c` are one file to Ninja).
fn canonical(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if path.starts_with('/') { format!("/{joined}") } else { joined }
}

fn ends_in_continuation(line: &str) -> bool {
    let dollars = line.bytes().rev().take_while(|&b| b == b'$').count();
    dollars % 2 == 1
}

/// The index of the first `:` not escaped by a `$`.
fn unescaped_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' => i += 2,
            b':' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Space-separated paths, with Ninja's escapes (`$ `, `$:`, `$$`) undone.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '$' => {
                if let Some(escaped) = chars.next() {
                    current.push(escaped);
                }
            }
            ' ' => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "\
rule cxx
  command = c++ -c $in -o $out
build gen/api.cc: action ../tree/test/data/api.json | ../tree/tool.py
  description = ACTION api
build obj/api.stamp: stamp gen/api.cc obj/other/other.o
build obj/other/other.o: cxx ../tree/y.cc
build obj/headers.stamp: stamp gen/a.h gen/b.h
build gen/a.h gen/b.h: action ../tree/a.idl
build obj/test_support.inputdeps.stamp: stamp obj/api.stamp $
    obj/headers.stamp
build obj/x/unit_tests/x_unittest.o: cxx ../tree/x/x_unittest.cc || $
    obj/test_support.inputdeps.stamp
build obj/x/x/x.o: cxx ../tree/x/x.cc || obj/headers.stamp |@ obj/check.stamp
build obj/with$ space/y$:z.o: cxx ../tree/y.cc
subninja toolchain.ninja
";

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        for file in ["tool.py", "a.idl", "x/x_unittest.cc", "x/x.cc", "y.cc"] {
            let path = tree.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "").unwrap();
        }
        fs::create_dir_all(dir.path().join("out")).unwrap();
        dir
    }

    #[test]
    fn a_target_that_needs_a_missing_file_is_blocked_and_names_it() {
        let dir = tree();
        let out = dir.path().join("out");
        let mut graph = Graph::default();
        assert_eq!(graph.parse(MANIFEST), vec!["toolchain.ninja".to_owned()]);
        let targets = ["obj/x/unit_tests/x_unittest.o", "obj/x/x/x.o", "obj/with space/y:z.o"];
        assert_eq!(
            graph.blocked(&out, &targets),
            vec![
                Needs::Missing("../tree/test/data/api.json".to_owned()),
                Needs::Nothing,
                Needs::Nothing
            ]
        );
        // What the blocked object may include that Ninja can build: the generated headers,
        // not the generated source that needs the missing file, nor objects.
        assert_eq!(
            graph.buildable_dependencies(&out, "obj/x/unit_tests/x_unittest.o"),
            vec!["gen/a.h".to_owned(), "gen/b.h".to_owned()]
        );
        // Once the file is there, nothing is blocked.
        fs::create_dir_all(dir.path().join("tree/test/data")).unwrap();
        fs::write(dir.path().join("tree/test/data/api.json"), "{}").unwrap();
        assert_eq!(graph.blocked(&out, &targets[..1]), vec![Needs::Nothing]);
    }

    #[test]
    fn validations_are_not_inputs_and_escapes_are_undone() {
        let dir = tree();
        let out = dir.path().join("out");
        let mut graph = Graph::default();
        graph.parse(MANIFEST);
        graph.parse("build obj/check.stamp: stamp ../tree/not/there.txt\n");
        assert_eq!(graph.blocked(&out, &["obj/x/x/x.o"]), vec![Needs::Nothing]);
        assert!(graph.ids.contains_key("obj/with space/y:z.o"));
        assert_eq!(tokens("a$ b c$$d $:e"), vec!["a b", "c$d", ":e"]);
        assert_eq!(canonical("./generate_colors_info"), "generate_colors_info");
        assert_eq!(canonical("../tree/a//b/./../c.h"), "../tree/a/c.h");
        assert_eq!(canonical("../../x"), "../../x");
        assert_eq!(canonical("/usr/bin/gn"), "/usr/bin/gn");
        assert!(ends_in_continuation("build a: b $"));
        assert!(!ends_in_continuation("command = echo $$"));
    }
}
