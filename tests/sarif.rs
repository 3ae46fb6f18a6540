//! `umbra sarif`, `umbra report` and the `sarif_path` option, end to end: C programs
//! built with `gcc -fsanitize=thread` run under umbra with `json_path`; their
//! reports are converted, and the SARIF is validated against the SARIF 2.1.0 JSON
//! schema (the copy serde-sarif ships, found through `cargo metadata`) and checked
//! for what GitHub code scanning reads: rule ids, root-relative locations, code
//! flows, fingerprints that are equal across runs.
//!
//! The programs in `tests/sarif/` say what their result must be in header lines:
//! - `// exit: N`, `// stdout: TEXT`: the run;
//! - `// rule: ID`: the result's rule id;
//! - `// site: FUNC @MARK` (two): the top user frames of the report's two stacks,
//!   at the program's line marked `/* @MARK */` (the first is the primary location
//!   when the order is fixed, otherwise either);
//! - `// related: LABEL @MARK`: a related location with that message and line.
//!
//! Every program of `tests/report_kinds/` with a `// summary: KIND @MARK FUNC`
//! header is converted too: its rule id is KIND's words joined by `-`, its primary
//! location is that line.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use common::annotated::ProgramDir;
use common::cprog::{gcc_binary, preloaded};
use common::exec::{run, tail, Output, Status};
use common::toolchain::cargo_env::scrub_cargo_env;
use common::toolchain::{target_dir, umbra_runtime, workspace_dir};

const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// `cargo umbra` may build std with -Zbuild-std first: minutes on a busy machine.
const CARGO_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = target_dir().join("sarif-test").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn show(o: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status,
        tail(&o.stdout, 40),
        tail(&o.stderr, 80)
    )
}

/// A program's header values for `key` (`// key: value` lines).
fn header(source: &Path, key: &str) -> Vec<String> {
    let text = fs::read_to_string(source).unwrap();
    let prefix = format!("// {key}: ");
    text.lines()
        .take_while(|l| l.starts_with("//"))
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// The line of `source` marked `@mark` (followed by a non-identifier character).
fn marker_line(source: &Path, mark: &str) -> i64 {
    let text = fs::read_to_string(source).unwrap();
    let needle = format!("@{mark}");
    let found = (1..).zip(text.lines()).find(|(_, l)| {
        !l.starts_with("//")
            && l.match_indices(&needle).any(|(i, _)| {
                l[i + needle.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
            })
    });
    found
        .unwrap_or_else(|| panic!("{}: no line marked @{mark}", source.display()))
        .0
}

/// `FUNC @MARK` → (FUNC, line of MARK); the label before `@MARK` for `related:`.
fn split_marked(source: &Path, spec: &str) -> (String, i64) {
    let (text, mark) = spec
        .rsplit_once(" @")
        .unwrap_or_else(|| panic!("bad header value {spec:?}"));
    (text.to_owned(), marker_line(source, mark))
}

/// Runs the gcc build of `tests/DIR/NAME.c` under umbra with the JSON reports in
/// `json` (appended to).
fn run_with_json(dir: &str, name: &str, json: &Path) -> Output {
    let mut cmd = preloaded(&gcc_binary(dir, name));
    cmd.env("UMBRA_OPTIONS", format!("json_path={}", json.display()));
    run(&mut cmd, RUN_TIMEOUT).unwrap_or_else(|e| panic!("running {name}: {e}"))
}

fn umbra(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_umbra"));
    cmd.args(args).current_dir(workspace_dir());
    run(&mut cmd, RUN_TIMEOUT).unwrap_or_else(|e| panic!("running umbra {args:?}: {e}"))
}

/// `umbra sarif FILES... --root <workspace>`, parsed.
fn to_sarif(files: &[&Path]) -> Value {
    let mut args = vec!["sarif".to_owned()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["--root".to_owned(), workspace_dir().display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = umbra(&args);
    assert_eq!(out.status, Status::Exited(0), "{}", show(&out));
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout))
}

/// The SARIF 2.1.0 schema, as serde-sarif (the crate whose model `umbra sarif`
/// uses) ships it: the OASIS schema, in JSON Schema draft 7.
fn schema_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--offline",
                "--filter-platform",
            ])
            .arg(format!("{}-unknown-linux-gnu", std::env::consts::ARCH))
            .current_dir(workspace_dir())
            .output()
            .expect("cargo metadata");
        assert!(out.status.success(), "cargo metadata failed");
        let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
        let manifest = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "serde-sarif")
            .and_then(|p| p["manifest_path"].as_str())
            .expect("serde-sarif in cargo metadata")
            .to_owned();
        let path = Path::new(&manifest).with_file_name("src/schema.json");
        let mut schema: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        // The 2.1.0 schema's pattern for the `language` properties has a stray `]`
        // (`...-[a-zA-Z]{2}]?$`, as in the OASIS file), which a validator that checks
        // `format` rejects when it checks the schema itself. umbra never writes
        // `language`; the pattern becomes the one the spec describes (`en`, `en-US`).
        let fixed = fix_language_patterns(&mut schema);
        assert!(fixed >= 1, "the schema's language pattern changed");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles")
    })
}

/// Replaces the schema's malformed `language` patterns (see [`schema_validator`]);
/// returns how many there were.
fn fix_language_patterns(schema: &mut Value) -> usize {
    const BAD: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match schema {
        Value::Object(map) => {
            let mut n = 0;
            for (key, value) in map.iter_mut() {
                if key == "pattern" && value == BAD {
                    *value = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
                    n += 1;
                } else {
                    n += fix_language_patterns(value);
                }
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(fix_language_patterns).sum(),
        _ => 0,
    }
}

/// The schema's complaints about `sarif` (empty: valid).
fn schema_errors(sarif: &Value) -> Vec<String> {
    schema_validator()
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Asserts `sarif` is valid SARIF 2.1.0 and has what GitHub code scanning needs of
/// each result: a rule id listed by the driver at its index, a message, a primary
/// location with a URI and a region starting at a line ≥ 1, a partial fingerprint.
fn check_sarif(sarif: &Value) {
    let errors = schema_errors(sarif);
    assert!(errors.is_empty(), "schema errors: {errors:#?}\n{sarif:#}");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "umbra");
    assert_eq!(
        run["originalUriBaseIds"]["SRCROOT"]["uri"],
        format!("file://{}/", workspace_dir().display())
    );
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in run["results"].as_array().unwrap() {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "{r:#}");
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let physical = &r["locations"][0]["physicalLocation"];
        assert!(physical["artifactLocation"]["uri"].is_string(), "{r:#}");
        assert!(physical["region"]["startLine"].as_i64().unwrap() >= 1);
        let fp = r["partialFingerprints"]["umbraSite/v1"].as_str().unwrap();
        assert_eq!(fp.len(), 16, "{fp}");
    }
}

fn results(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["results"].as_array().unwrap()
}

/// (uri, uriBaseId, startLine) of a SARIF location.
fn place(location: &Value) -> (String, String, i64) {
    let p = &location["physicalLocation"];
    (
        p["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        p["artifactLocation"]["uriBaseId"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        p["region"]["startLine"].as_i64().unwrap_or(0),
    )
}

/// Runs `tests/sarif/NAME.c` once with JSON reports into `dir/NAME-RUN.jsonl`,
/// checking the header's exit code and stdout; returns the JSON file.
fn run_program(name: &str, dir: &Path, run_no: usize) -> PathBuf {
    let source = workspace_dir().join(format!("tests/sarif/{name}.c"));
    let json = dir.join(format!("{name}-{run_no}.jsonl"));
    let out = run_with_json("sarif", name, &json);
    let exit: i32 = header(&source, "exit")[0].parse().unwrap();
    assert_eq!(out.status, Status::Exited(exit), "{}", show(&out));
    for s in header(&source, "stdout") {
        assert!(
            out.stdout.contains(&s),
            "stdout lacks {s:?}\n{}",
            show(&out)
        );
    }
    json
}

/// Checks one program's result against its header; returns its fingerprint.
fn check_program_result(name: &str, result: &Value) -> String {
    let source = workspace_dir().join(format!("tests/sarif/{name}.c"));
    let uri = format!("tests/sarif/{name}.c");
    assert_eq!(result["ruleId"], header(&source, "rule")[0].as_str());
    assert_eq!(result["level"], "error");
    let sites: Vec<(String, i64)> = header(&source, "site")
        .iter()
        .map(|s| split_marked(&source, s))
        .collect();
    assert_eq!(sites.len(), 2, "{name}: two site lines expected");
    let site_lines: Vec<i64> = sites.iter().map(|s| s.1).collect();
    let (p_uri, base, line) = place(&result["locations"][0]);
    assert_eq!((p_uri.as_str(), base.as_str()), (uri.as_str(), "SRCROOT"));
    assert!(
        site_lines.contains(&line),
        "primary line {line} not in {site_lines:?}"
    );
    let message = result["message"]["text"].as_str().unwrap();
    for (function, line) in &sites {
        assert!(
            message.contains(&format!("{function} ({uri}:{line})")),
            "message lacks {function} at {line}: {message}"
        );
    }
    // Both accesses are related locations and thread flows ending at their lines.
    let related: Vec<(String, String, i64)> = result["relatedLocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(place)
        .collect();
    for line in &site_lines {
        assert!(
            related.contains(&(uri.clone(), "SRCROOT".to_owned(), *line)),
            "no related location at {line}: {related:?}"
        );
    }
    for spec in header(&source, "related") {
        let (label, line) = split_marked(&source, &spec);
        assert!(
            result["relatedLocations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["message"]["text"] == label.as_str() && place(l).2 == line),
            "no related location {label:?} at {line}: {:#}",
            result["relatedLocations"]
        );
    }
    let flows = result["codeFlows"][0]["threadFlows"].as_array().unwrap();
    let innermost: Vec<i64> = flows
        .iter()
        .filter_map(|f| {
            f["locations"]
                .as_array()?
                .iter()
                .rev()
                .map(|l| place(&l["location"]))
                .find(|p| p.0 == uri)
                .map(|p| p.2)
        })
        .collect();
    for line in &site_lines {
        assert!(
            innermost.contains(line),
            "no thread flow reaches line {line}"
        );
    }
    result["partialFingerprints"]["umbraSite/v1"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_race_converts_to_valid_sarif_with_one_fingerprint_across_runs() {
    let dir = scratch("race");
    let runs: Vec<PathBuf> = (1..=2).map(|n| run_program("race", &dir, n)).collect();
    let mut fingerprints = Vec::new();
    for json in &runs {
        let sarif = to_sarif(&[json]);
        check_sarif(&sarif);
        assert_eq!(results(&sarif).len(), 1, "{sarif:#}");
        fingerprints.push(check_program_result("race", &results(&sarif)[0]));
    }
    assert_eq!(fingerprints[0], fingerprints[1]);
    // Both runs in one log: two results, one alert.
    let both = to_sarif(&[&runs[0], &runs[1]]);
    check_sarif(&both);
    let fps: Vec<&Value> = results(&both)
        .iter()
        .map(|r| &r["partialFingerprints"]["umbraSite/v1"])
        .collect();
    assert_eq!(fps.len(), 2);
    assert_eq!(fps[0], fps[1]);
    assert_eq!(
        both["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn heap_use_after_free_has_the_free_and_the_allocation() {
    let dir = scratch("uaf");
    let json = run_program("use_after_free", &dir, 1);
    let sarif = to_sarif(&[&json]);
    check_sarif(&sarif);
    assert_eq!(results(&sarif).len(), 1, "{sarif:#}");
    check_program_result("use_after_free", &results(&sarif)[0]);
}

#[test]
fn the_schema_check_rejects_what_code_scanning_would() {
    let dir = scratch("schema");
    let json = run_program("race", &dir, 1);
    let good = to_sarif(&[&json]);
    assert!(schema_errors(&good).is_empty());
    let mut no_version = good.clone();
    no_version.as_object_mut().unwrap().remove("version");
    assert!(!schema_errors(&no_version).is_empty());
    let mut line_zero = good.clone();
    line_zero["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!schema_errors(&line_zero).is_empty());
    let mut bad_uri = good;
    bad_uri["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"] = "a b\\c:d e".into();
    assert!(!schema_errors(&bad_uri).is_empty());
}

/// `data race` → `data-race`: a kind's words, lower case, joined by `-`.
fn slug(kind: &str) -> String {
    kind.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

#[test]
fn every_report_kind_gets_a_rule_and_its_summary_line() {
    let dir = scratch("kinds");
    let programs_dir = workspace_dir().join("tests/report_kinds");
    let kinds_dir = ProgramDir {
        dir: "report_kinds",
    };
    let mut names: Vec<String> = fs::read_dir(&programs_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|name| kinds_dir.expected(name).summary.is_some())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    let mut kinds_seen = Vec::new();
    for name in &names {
        let summary = kinds_dir.expected(name).summary.unwrap();
        let (kind, mark, function) = (
            summary.kind.as_str(),
            summary.mark.as_str(),
            summary.function.as_str(),
        );
        let json = dir.join(format!("{name}.jsonl"));
        let out = run_with_json("report_kinds", name, &json);
        assert!(
            matches!(out.status, Status::Exited(_)),
            "{name}: {}",
            show(&out)
        );
        let sarif = to_sarif(&[&json]);
        check_sarif(&sarif);
        let result = results(&sarif)
            .iter()
            .find(|r| r["ruleId"] == slug(kind).as_str())
            .unwrap_or_else(|| panic!("{name}: no {} result: {sarif:#}", slug(kind)));
        let expected_level = if kind.contains("leak") {
            "warning"
        } else {
            "error"
        };
        assert_eq!(result["level"], expected_level, "{name}");
        let (uri, base, line) = place(&result["locations"][0]);
        assert_eq!(
            (uri, base, line),
            (
                format!("tests/report_kinds/{name}.c"),
                "SRCROOT".to_owned(),
                kinds_dir.marker_line(name, mark) as i64
            ),
            "{name}: {result:#}"
        );
        let message = result["message"]["text"].as_str().unwrap();
        assert!(
            message.contains(kind) && message.contains(function),
            "{name}: {message}"
        );
        kinds_seen.push(kind.to_owned());
    }
    kinds_seen.sort();
    kinds_seen.dedup();
    assert!(kinds_seen.len() >= 4, "{kinds_seen:?}");
}

#[test]
fn report_summarizes_by_site_as_text_markdown_and_github_annotations() {
    let dir = scratch("report");
    let runs: Vec<PathBuf> = (1..=2).map(|n| run_program("race", &dir, n)).collect();
    let source = workspace_dir().join("tests/sarif/race.c");
    let sites: Vec<(String, i64)> = header(&source, "site")
        .iter()
        .map(|s| split_marked(&source, s))
        .collect();
    let report = |format: &str| {
        let out = umbra(&[
            "report",
            runs[0].to_str().unwrap(),
            runs[1].to_str().unwrap(),
            "--format",
            format,
        ]);
        assert_eq!(out.status, Status::Exited(0), "{}", show(&out));
        out.stdout
    };
    let described =
        |(function, line): &(String, i64)| format!("{function} (tests/sarif/race.c:{line})");

    let github = report("github");
    let lines: Vec<&str> = github.lines().collect();
    assert_eq!(lines.len(), 1, "one annotation per site: {github}");
    let line = lines[0];
    let (command, message) = line.split_once("::").unwrap().1.split_once("::").unwrap();
    let props = command.strip_prefix("error ").unwrap();
    let props: Vec<(&str, &str)> = props
        .split(',')
        .map(|p| p.split_once('=').unwrap())
        .collect();
    assert_eq!(props[0], ("file", "tests/sarif/race.c"), "{line}");
    assert_eq!(props[1].0, "line");
    let annotated: i64 = props[1].1.parse().unwrap();
    assert!(sites.iter().any(|s| s.1 == annotated), "{line}");
    assert!(props.contains(&("title", "umbra%3A data race")), "{line}");
    assert!(
        message.starts_with("ThreadSanitizer: data race: "),
        "{line}"
    );
    assert!(message.ends_with("(2 reports)"), "{line}");
    for s in &sites {
        assert!(message.contains(&described(s)), "{line}");
    }

    let text = report("text");
    assert!(text.starts_with("umbra: 2 reports at 1 site\n"), "{text}");
    assert!(text.contains("2x  data race: "), "{text}");

    let markdown = report("markdown");
    assert!(markdown.contains("| count | kind | first stack | second stack |"));
    let row = markdown
        .lines()
        .find(|l| l.starts_with("| 2 | data race | "))
        .unwrap_or_else(|| panic!("{markdown}"));
    for s in &sites {
        assert!(row.contains(&described(s)), "{row}");
    }
}

#[test]
fn sarif_path_under_umbra_run_writes_the_runs_reports() {
    let dir = scratch("run");
    let binary = gcc_binary("sarif", "race");
    let rt = umbra_runtime().unwrap();
    let sarif_file = dir.join("out.sarif");
    // The user's own json_path keeps its earlier content; only this run's report
    // goes into the SARIF.
    let user_json = dir.join("mine.jsonl");
    let earlier = run_program("race", &dir, 0);
    fs::copy(&earlier, &user_json).unwrap();
    for (options, json_lines_after) in [
        (format!("sarif_path={}", sarif_file.display()), None),
        (
            format!(
                "json_path={}:sarif_path={}",
                user_json.display(),
                sarif_file.display()
            ),
            Some(2),
        ),
    ] {
        let _ = fs::remove_file(&sarif_file);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_umbra"));
        cmd.args(["run", "--rt", rt.to_str().unwrap(), "--"])
            .arg(&binary)
            .current_dir(workspace_dir())
            .env_remove("TSAN_OPTIONS")
            .env("UMBRA_OPTIONS", &options);
        let out = run(&mut cmd, RUN_TIMEOUT).unwrap();
        assert_eq!(out.status, Status::Exited(66), "{options}: {}", show(&out));
        assert!(out.stdout.contains("done"), "{}", show(&out));
        assert!(
            out.stderr.contains(&format!(
                "umbra: wrote 1 result to {}",
                sarif_file.display()
            )),
            "{options}: {}",
            show(&out)
        );
        assert!(
            !out.stderr.contains("not by the runtime alone"),
            "{}",
            show(&out)
        );
        let sarif: Value = serde_json::from_str(&fs::read_to_string(&sarif_file).unwrap()).unwrap();
        check_sarif(&sarif);
        assert_eq!(results(&sarif).len(), 1);
        check_program_result("race", &results(&sarif)[0]);
        if let Some(n) = json_lines_after {
            let kept = fs::read_to_string(&user_json).unwrap();
            assert_eq!(kept.lines().count(), n, "{kept}");
        }
    }
}

#[test]
fn sarif_path_under_plain_preload_warns_once_with_the_command() {
    let dir = scratch("preload");
    let sarif_file = dir.join("out.sarif");
    let mut cmd = preloaded(&gcc_binary("sarif", "race"));
    cmd.env(
        "UMBRA_OPTIONS",
        format!("sarif_path={}", sarif_file.display()),
    );
    let out = run(&mut cmd, RUN_TIMEOUT).unwrap();
    assert_eq!(out.status, Status::Exited(66), "{}", show(&out));
    assert!(out.stdout.contains("done"));
    let warning = format!(
        "umbra: sarif_path={0} is written by `umbra run` and `cargo umbra`, not by the \
         runtime alone: set json_path=reports.jsonl and run `umbra sarif reports.jsonl > {0}`",
        sarif_file.display()
    );
    assert_eq!(out.stderr.matches(&warning).count(), 1, "{}", show(&out));
    assert!(out.stderr.contains("WARNING: ThreadSanitizer: data race"));
    assert!(!sarif_file.exists());
}

#[test]
fn sarif_path_under_cargo_umbra() {
    let crate_dir = workspace_dir().join("tests/cargo-umbra/racy");
    let dir = scratch("cargo-umbra");
    let sarif_file = dir.join("racy.sarif");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-umbra"));
    cmd.args(["umbra", "run", "--target-dir"])
        .arg(target_dir().join("cargo-umbra-test"))
        .current_dir(&crate_dir)
        .env("UMBRA_CACHE_DIR", target_dir().join("cargo-umbra-cache"));
    // What the outer `cargo test` exported must not leak into the user's build.
    scrub_cargo_env(&mut cmd);
    cmd.env(
        "UMBRA_OPTIONS",
        format!("sarif_path={}", sarif_file.display()),
    );
    let out = run(&mut cmd, CARGO_TIMEOUT).unwrap();
    assert_eq!(out.status, Status::Exited(66), "{}", show(&out));
    let sarif: Value = serde_json::from_str(&fs::read_to_string(&sarif_file).unwrap()).unwrap();
    let errors = schema_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let race_lines: Vec<i64> = (1..)
        .zip(
            fs::read_to_string(crate_dir.join("src/lib.rs"))
                .unwrap()
                .lines(),
        )
        .filter(|(_, l)| l.contains("// RACE"))
        .map(|(n, _)| n)
        .collect();
    let found = results(&sarif);
    assert!(!found.is_empty(), "{sarif:#}");
    for r in found {
        assert_eq!(r["ruleId"], "data-race");
        let (uri, base, line) = place(&r["locations"][0]);
        // Paths are relative to where `cargo umbra` ran: the crate.
        assert_eq!((uri.as_str(), base.as_str()), ("src/lib.rs", "SRCROOT"));
        assert!(race_lines.contains(&line), "{line} not in {race_lines:?}");
    }
}
