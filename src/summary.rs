//! `umbra report`: the runtime's JSON reports summarized by site, for people (text,
//! markdown for a CI job summary) and for GitHub Actions (`github`: one workflow
//! command per site, `::error file=...,line=...,title=...::message`, which the runner
//! turns into an annotation on that line of the pull request). Reports of the same
//! site (same kind and fingerprint, see [`Site::fingerprint`]) are counted together;
//! sites are listed by count, then kind and frames.

use std::collections::BTreeMap;

use crate::reports::{Report, Site, SiteFrame, SourceRoot};

/// The output formats of `umbra report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per site, for a terminal.
    Text,
    /// GitHub Actions workflow commands: an annotation per site.
    Github,
    /// A markdown table (for `$GITHUB_STEP_SUMMARY`).
    Markdown,
}

/// The reports of one site.
struct Group {
    site: Site,
    /// Reports of the site (a thread leak report with `count` 3, "And 2 more
    /// similar thread leaks", is one report).
    count: u64,
    level: &'static str,
}

fn group(reports: &[Report], root: &SourceRoot) -> Vec<Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for r in reports {
        let site = Site::of(r, root);
        let key = format!("{}\0{}", r.kind, site.fingerprint(r.is_race()));
        groups
            .entry(key)
            .or_insert_with(|| Group {
                site,
                count: 0,
                level: if r.kind.contains("leak") {
                    "warning"
                } else {
                    "error"
                },
            })
            .count += 1;
    }
    let mut out: Vec<Group> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.site.kind.cmp(&b.site.kind))
            .then_with(|| a.site.frames.cmp(&b.site.frames))
    });
    out
}

fn frame_or_unknown(f: Option<&SiteFrame>) -> String {
    f.map_or_else(|| "-".to_owned(), SiteFrame::describe)
}

/// One sentence for a site: `data race: Thread1 (a.c:4) and main (a.c:10)`.
fn describe(site: &Site) -> String {
    match site.frames.as_slice() {
        [] => site.kind.clone(),
        [one] => format!("{}: {}", site.kind, one.describe()),
        [first, second, ..] => format!(
            "{}: {} and {}",
            site.kind,
            first.describe(),
            second.describe()
        ),
    }
}

fn times(n: u64) -> String {
    if n == 1 {
        "1 report".to_owned()
    } else {
        format!("{n} reports")
    }
}

/// Escapes a workflow command's message (`%`, CR, LF), as the Actions runner reads it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A markdown table cell: `|` escaped, code spans for names.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The summary of `reports` in `format`, ending with a newline (empty input: a line
/// saying so, except for `github`, which then prints nothing).
pub fn render(reports: &[Report], root: &SourceRoot, format: Format) -> String {
    let groups = group(reports, root);
    let total: u64 = groups.iter().map(|g| g.count).sum();
    let mut out = String::new();
    match format {
        Format::Text => {
            if groups.is_empty() {
                out.push_str("umbra: no reports\n");
                return out;
            }
            out.push_str(&format!(
                "umbra: {} at {} site{}\n",
                times(total),
                groups.len(),
                if groups.len() == 1 { "" } else { "s" }
            ));
            for g in &groups {
                out.push_str(&format!("{:>5}x  {}\n", g.count, describe(&g.site)));
            }
        }
        Format::Markdown => {
            if groups.is_empty() {
                out.push_str("umbra: no reports\n");
                return out;
            }
            out.push_str(&format!(
                "### umbra: {} at {} site{}\n\n",
                times(total),
                groups.len(),
                if groups.len() == 1 { "" } else { "s" }
            ));
            out.push_str("| count | kind | first stack | second stack |\n");
            out.push_str("|---:|---|---|---|\n");
            for g in &groups {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    g.count,
                    cell(&g.site.kind),
                    cell(&frame_or_unknown(g.site.frames.first())),
                    cell(&frame_or_unknown(g.site.frames.get(1))),
                ));
            }
        }
        Format::Github => {
            for g in &groups {
                let mut props = Vec::new();
                if let Some(f) = g.site.frames.first() {
                    if let Some(file) = &f.file {
                        props.push(format!("file={}", escape_property(file)));
                        if f.line > 0 {
                            props.push(format!("line={}", f.line));
                        }
                        if f.column > 0 {
                            props.push(format!("col={}", f.column));
                        }
                    }
                }
                props.push(format!(
                    "title={}",
                    escape_property(&format!("umbra: {}", g.site.kind))
                ));
                let message = format!(
                    "ThreadSanitizer: {} ({})",
                    describe(&g.site),
                    times(g.count)
                );
                out.push_str(&format!(
                    "::{} {}::{}\n",
                    g.level,
                    props.join(","),
                    escape_data(&message)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escapes() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(cell("a|b"), "a\\|b");
    }
}
