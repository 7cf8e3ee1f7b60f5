//! Results of a googletest program (NSS's `ssl_gtest`, BoringSSL's `ssl_test`) from the JSON
//! report it writes with `--gtest_output=json:FILE`, rather than from its XML or its stdout.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

/// What a gtest run did, test by test.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tests that ran and passed.
    pub passed: usize,
    /// `Suite.Test` of every test with a failure.
    pub failed: Vec<String>,
    /// Tests that called `GTEST_SKIP()` (cipher suites the build leaves out, say).
    pub skipped: usize,
    /// `DISABLED_` tests, listed but not run.
    pub disabled: usize,
    /// `Suite.Test` of every test that ran, passed or not (for counting a subset).
    pub ran: Vec<String>,
}

impl Summary {
    /// Reads the report gtest wrote to `path`.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("reading the gtest report {} (did the program crash?)", path.display())
        })?;
        parse(&text).with_context(|| format!("reading the gtest report {}", path.display()))
    }

    /// Every test that ran, passed or failed.
    pub fn total(&self) -> usize {
        self.passed + self.failed.len() + self.skipped
    }
}

/// Parses gtest's JSON report: `testsuites[].testsuite[]` with each test's `status` (`RUN` or
/// `NOTRUN`), `result` (`COMPLETED`, `SKIPPED`, `SUPPRESSED`) and `failures`.
pub fn parse(text: &str) -> anyhow::Result<Summary> {
    let report: Value = serde_json::from_str(text).context("not JSON")?;
    let suites = report["testsuites"].as_array().context("no `testsuites` array")?;
    let mut summary = Summary::default();
    for suite in suites {
        let suite_name = suite["name"].as_str().context("a test suite without a name")?;
        let tests = suite["testsuite"].as_array().context("a test suite without tests")?;
        for test in tests {
            let name =
                format!("{suite_name}.{}", test["name"].as_str().context("a test without a name")?);
            let failures = test["failures"].as_array().map_or(0, Vec::len);
            if test["status"] == "NOTRUN" {
                summary.disabled += 1;
                continue;
            }
            if failures > 0 {
                summary.failed.push(name.clone());
            } else if test["result"] == "SKIPPED" || test["result"] == "SUPPRESSED" {
                summary.skipped += 1;
            } else {
                summary.passed += 1;
            }
            summary.ran.push(name);
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape googletest 1.14 writes (trimmed): one pass, one failure, one skip, one
    /// disabled test, a parameterized suite.
    const REPORT: &str = r#"{
      "tests": 4, "failures": 1, "disabled": 1, "errors": 0,
      "timestamp": "2026-12-02T20:00:00Z", "time": "0.1s", "name": "AllTests",
      "testsuites": [
        {"name": "SRPTest", "tests": 2, "failures": 1, "disabled": 1, "errors": 0,
         "testsuite": [
           {"name": "Handshake", "file": "ssl_test.cc", "line": 10, "status": "RUN",
            "result": "COMPLETED", "timestamp": "x", "time": "0s", "classname": "SRPTest"},
           {"name": "WrongPassword", "status": "RUN", "result": "COMPLETED", "time": "0s",
            "classname": "SRPTest",
            "failures": [{"failure": "ssl_test.cc:20\nExpected equality", "type": ""}]},
           {"name": "DISABLED_Slow", "status": "NOTRUN", "result": "SUPPRESSED", "time": "0s",
            "classname": "SRPTest"}
         ]},
        {"name": "Version12/TlsCipherSuiteTest", "tests": 1, "failures": 0, "disabled": 0,
         "testsuite": [
           {"name": "ReadLimit/3", "status": "RUN", "result": "SKIPPED", "time": "0s",
            "classname": "Version12/TlsCipherSuiteTest",
            "skipped": [{"message": "cipher suite not in this build"}]}
         ]}
      ]
    }"#;

    #[test]
    fn gtest_json_report_is_counted_test_by_test() {
        let summary = parse(REPORT).unwrap();
        assert_eq!(
            summary,
            Summary {
                passed: 1,
                failed: vec!["SRPTest.WrongPassword".to_owned()],
                skipped: 1,
                disabled: 1,
                ran: vec![
                    "SRPTest.Handshake".to_owned(),
                    "SRPTest.WrongPassword".to_owned(),
                    "Version12/TlsCipherSuiteTest.ReadLimit/3".to_owned(),
                ],
            }
        );
        assert_eq!(summary.total(), 3);
    }

    #[test]
    fn a_report_that_is_not_gtests_is_an_error() {
        assert!(parse("<testsuites tests=\"1\"/>").is_err(), "XML is not the JSON report");
        assert!(parse("{}").is_err(), "a report without testsuites");
        assert!(parse(r#"{"testsuites": [{"name": "A"}]}"#).is_err());
        assert_eq!(parse(r#"{"testsuites": []}"#).unwrap().total(), 0);
    }
}
