//! `umbra sarif`: the runtime's JSON reports as one SARIF 2.1.0 log, in the shape
//! GitHub code scanning reads. One run (tool `umbra`), one rule per report kind that
//! occurs (id from [`reports::rule_id`], so new kinds need no code), one result per
//! report: its message, its primary location (the top user frame of its first
//! stack), every stack as a related location (top user frame) and as a thread flow of
//! one code flow (outermost frame first, as SARIF orders execution), and a partial
//! fingerprint of its site ([`reports::Site::fingerprint`]) so that the same race in
//! two runs is one alert. Paths under the source root are relative URIs with
//! `uriBaseId` `SRCROOT` (declared in `originalUriBaseIds`); others are `file://` URIs.
//! The object model is serde-sarif's.

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, CodeFlow, Location, LogicalLocation, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, ThreadFlow, ThreadFlowLocation, Tool,
    ToolComponent,
};

use crate::reports::{
    self, top_user_frame, Frame, Report, Site, SiteFrame, SourcePath, SourceRoot,
};

/// The `uriBaseId` of paths under the source root.
pub const SRCROOT: &str = "SRCROOT";
/// The key of umbra's partial fingerprint (versioned: a change of what is hashed
/// gets a new key rather than silently new alerts).
pub const FINGERPRINT_KEY: &str = "umbraSite/v1";
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF's severity for a kind: leaks are warnings, everything else an error.
fn level(kind: &str) -> ResultLevel {
    if kind.contains("leak") {
        ResultLevel::Warning
    } else {
        ResultLevel::Error
    }
}

/// `path` percent-encoded for a URI path: everything but RFC 3986's unreserved
/// characters and `/` (so a `:` or a space never changes how the URI parses).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn artifact(path: &SourcePath) -> ArtifactLocation {
    match path {
        SourcePath::InRoot(rel) => ArtifactLocation::builder()
            .uri(encode_path(rel))
            .uri_base_id(SRCROOT)
            .build(),
        SourcePath::Outside(abs) => ArtifactLocation::builder()
            .uri(format!("file://{}", encode_path(abs)))
            .build(),
    }
}

fn text(s: impl Into<String>) -> Message {
    Message::builder().text(s.into()).build()
}

fn multiformat(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

/// A frame as a SARIF location: its file and line (when known) and its function
/// as a logical location, with `message` when given.
fn frame_location(f: &Frame, root: &SourceRoot, message: Option<String>) -> Location {
    let physical = f.file.as_deref().map(|file| {
        let artifact = artifact(&root.resolve(file));
        if f.line == 0 {
            return PhysicalLocation::builder()
                .artifact_location(artifact)
                .build();
        }
        let region = if f.column == 0 {
            Region::builder().start_line(i64::from(f.line)).build()
        } else {
            Region::builder()
                .start_line(i64::from(f.line))
                .start_column(i64::from(f.column))
                .build()
        };
        PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(region)
            .build()
    });
    let logical = LogicalLocation::builder()
        .fully_qualified_name(f.function_or_address())
        .kind("function")
        .build();
    let mut location = Location::builder().logical_locations(vec![logical]).build();
    location.physical_location = physical;
    location.message = message.map(text);
    location
}

/// The result's message: what happened and where, in one sentence.
fn message(report: &Report, site: &Site, root: &SourceRoot) -> String {
    let mut m = String::new();
    let mut sentence = |s: &str| {
        if !m.is_empty() {
            m.push(' ');
        }
        m.push_str(s);
    };
    let stacks = report.labeled_stacks();
    if report.is_race() {
        let describe = |role| {
            stacks
                .iter()
                .find(|s| s.role == role)
                .map(|s| {
                    let at = top_user_frame(s.frames, root)
                        .map(|f| format!(" in {}", SiteFrame::new(f, root).describe()))
                        .unwrap_or_default();
                    format!("{}{at}", s.label)
                })
                .unwrap_or_else(|| "an access whose stack was not restored".to_owned())
        };
        sentence(&format!(
            "ThreadSanitizer: {}: {} conflicts with {}.",
            report.kind,
            describe(reports::StackRole::Current),
            describe(reports::StackRole::Previous)
        ));
        if let Some(loc) = &report.location {
            let what = match (loc.location_type.as_str(), &loc.name) {
                ("global", Some(name)) => format!("global '{name}'"),
                ("heap", _) => format!("a heap block of size {}", loc.size.unwrap_or(0)),
                ("stack", _) => "a stack variable".to_owned(),
                ("tls", _) => "thread-local storage".to_owned(),
                (other, _) => other.to_owned(),
            };
            sentence(&format!("Location: {what}."));
        }
    } else {
        let at = site
            .frames
            .first()
            .map(|f| format!(" in {}", f.describe()))
            .unwrap_or_default();
        sentence(&format!("ThreadSanitizer: {}{at}.", report.kind));
        if report.count > 1 {
            // `count` (a thread leak's): how many share this report's stacks.
            sentence(&format!("{} occurrences share these stacks.", report.count));
        }
        if let Some(sig) = report.signal {
            sentence(&format!("Signal {sig}."));
        }
    }
    m
}

fn rule(kind: &str) -> ReportingDescriptor {
    let help = format!(
        "umbra (a ThreadSanitizer-compatible runtime) reported a '{kind}'. The result's \
         code flow shows every stack of the report; the text report (stderr or log_path) \
         has the same stacks with addresses."
    );
    ReportingDescriptor::builder()
        .id(reports::rule_id(kind))
        .name(camel_case(kind))
        .short_description(multiformat(format!("ThreadSanitizer: {kind}")))
        .full_description(multiformat(format!(
            "ThreadSanitizer report kind '{kind}'."
        )))
        .help(multiformat(help))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::to_value(level(kind)).expect("a level serializes"))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec!["concurrency".to_owned(), "thread-safety".to_owned()])
                .build(),
        )
        .build()
}

/// `data race` → `DataRace` (SARIF's `name` is a PascalCase identifier by convention).
fn camel_case(kind: &str) -> String {
    reports::rule_id(kind)
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|first| first.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn result(report: &Report, root: &SourceRoot, rule_index: usize) -> SarifResult {
    let site = Site::of(report, root);
    let stacks = report.labeled_stacks();
    let related: Vec<Location> = stacks
        .iter()
        .zip(1i64..)
        .filter_map(|(s, id)| {
            let f = top_user_frame(s.frames, root)?;
            let mut loc = frame_location(f, root, Some(s.label.clone()));
            loc.id = Some(id);
            Some(loc)
        })
        .collect();
    let thread_flows: Vec<ThreadFlow> = stacks
        .iter()
        .map(|s| {
            let n = s.frames.len();
            let locations = s
                .frames
                .iter()
                .rev()
                .enumerate()
                .map(|(depth, f)| {
                    ThreadFlowLocation::builder()
                        .location(frame_location(f, root, Some(f.function_or_address())))
                        .nesting_level(depth as i64)
                        .importance(serde_json::json!(if depth + 1 == n {
                            "essential"
                        } else {
                            "unimportant"
                        }))
                        .build()
                })
                .collect::<Vec<_>>();
            let mut flow = ThreadFlow::builder()
                .locations(locations)
                .message(text(s.label.clone()))
                .build();
            flow.id = s.thread.clone();
            flow
        })
        .collect();
    let primary = stacks
        .first()
        .and_then(|s| top_user_frame(s.frames, root))
        .or(report.summary.as_ref())
        .map(|f| frame_location(f, root, None));
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(
        FINGERPRINT_KEY.to_owned(),
        site.fingerprint(report.is_race()),
    );
    let mut r = SarifResult::builder()
        .rule_id(reports::rule_id(&report.kind))
        .rule_index(rule_index as i64)
        .level(level(&report.kind))
        .message(text(message(report, &site, root)))
        .partial_fingerprints(fingerprints)
        .build();
    r.locations = primary.map(|p| vec![p]);
    r.related_locations = (!related.is_empty()).then_some(related);
    r.code_flows = (!thread_flows.is_empty()).then(|| {
        vec![CodeFlow::builder()
            .thread_flows(thread_flows)
            .message(text(format!("the stacks of the {}", report.kind)))
            .build()]
    });
    r
}

/// The SARIF log of `reports` with paths relative to `root`.
pub fn to_sarif(reports: &[Report], root: &SourceRoot) -> Sarif {
    let mut kinds: Vec<&str> = reports.iter().map(|r| r.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let rules: Vec<ReportingDescriptor> = kinds.iter().map(|k| rule(k)).collect();
    let results: Vec<SarifResult> = reports
        .iter()
        .map(|r| {
            let index = kinds.binary_search(&r.kind.as_str()).unwrap_or(0);
            result(r, root, index)
        })
        .collect();
    let driver = ToolComponent::builder()
        .name("umbra")
        .full_name("umbra, a ThreadSanitizer-compatible data-race detector")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let mut root_uri = format!("file://{}", encode_path(&root.dir().to_string_lossy()));
    if !root_uri.ends_with('/') {
        root_uri.push('/');
    }
    let mut bases = BTreeMap::new();
    bases.insert(
        SRCROOT.to_owned(),
        ArtifactLocation::builder().uri(root_uri).build(),
    );
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    run.original_uri_base_ids = Some(bases);
    run.column_kind = Some(serde_json::json!("unicodeCodePoints"));
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// The SARIF log of `reports` as pretty-printed JSON text, with a final newline.
pub fn to_sarif_text(reports: &[Report], root: &SourceRoot) -> String {
    let mut s =
        serde_json::to_string_pretty(&to_sarif(reports, root)).expect("a SARIF model serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(encode_path("src/a b/c:d.c"), "src/a%20b/c%3Ad.c");
        assert_eq!(encode_path("/x/é.c"), "/x/%C3%A9.c");
    }

    #[test]
    fn names_and_levels() {
        assert_eq!(camel_case("data race"), "DataRace");
        assert_eq!(level("thread leak"), ResultLevel::Warning);
        assert_eq!(level("double lock of a mutex"), ResultLevel::Error);
    }
}
