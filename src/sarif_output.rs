//! `sarif_path` for `umbra run` and `cargo umbra`. The runtime writes JSON, not
//! SARIF (a SARIF log is one document for the whole run, every process of a test
//! suite, and the runtime has no serializer), so these commands read `sarif_path`
//! from `TSAN_OPTIONS`/`UMBRA_OPTIONS` with the runtime's own parser, have the
//! runtime write its JSON reports to a file (the user's `json_path` if it names one,
//! else a private temp file, appended to by every process), and after the program
//! has exited convert what was written during the run into `sarif_path`. The options
//! they pass on clear `sarif_path`, so the runtime does not also warn about it.
//! A `sarif_path` set only in the program's `__tsan_default_options()` is not seen
//! here; the runtime then warns with the command to use.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use umbra_report::options::{output_target, parse_into_with, Options, OutputTarget, Unknown};

use crate::reports::{self, SourceRoot};
use crate::sarif;

/// Where the runtime's JSON reports of this run land.
enum JsonSource {
    /// Our temp file (in its own temp directory, removed at the end).
    Temp { dir: PathBuf, file: PathBuf },
    /// The user's `json_path`: files of the form it names, with their sizes before
    /// the run, so only what this run appended is converted.
    User {
        pattern: UserJson,
        sizes_before: HashMap<PathBuf, u64>,
    },
}

/// The files a user's `json_path` names.
enum UserJson {
    /// `PATH.jsonl`: that file.
    Exact(PathBuf),
    /// `PATH`: `PATH.<pid>` for every process.
    PerPid { dir: PathBuf, prefix: String },
}

impl UserJson {
    fn files(&self) -> Vec<PathBuf> {
        match self {
            UserJson::Exact(p) => vec![p.clone()],
            UserJson::PerPid { dir, prefix } => {
                let Ok(entries) = fs::read_dir(dir) else {
                    return Vec::new();
                };
                let mut files: Vec<PathBuf> = entries
                    .flatten()
                    .filter(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        name.strip_prefix(prefix.as_str())
                            .and_then(|rest| rest.strip_prefix('.'))
                            .is_some_and(|pid| {
                                !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
                            })
                    })
                    .map(|e| e.path())
                    .collect();
                files.sort();
                files
            }
        }
    }
}

/// A run whose reports go to `sarif_path` as well.
pub struct SarifCapture {
    sarif_path: PathBuf,
    root: SourceRoot,
    source: JsonSource,
}

/// Wraps `text` in double quotes for the options parser when it holds a separator.
fn option_value(text: &str) -> String {
    if text.contains([':', ',', ' ', '\t', '\r', '\n', '\'']) {
        format!("\"{text}\"")
    } else {
        text.to_owned()
    }
}

/// Reads `sarif_path` from the option strings. `None` when it is unset, or when the
/// strings do not parse (the runtime then stops with the error itself). Otherwise
/// the capture and the `UMBRA_OPTIONS` to give the program: the user's, then
/// `sarif_path=` and, when the user set no `json_path`, ours.
pub fn prepare(
    tsan_options: Option<&str>,
    umbra_options: Option<&str>,
) -> Result<Option<(SarifCapture, String)>, String> {
    let mut o = Options::new();
    for (source, text, unknown) in [
        ("TSAN_OPTIONS", tsan_options, Unknown::Warn),
        ("UMBRA_OPTIONS", umbra_options, Unknown::Error),
    ] {
        if let Some(text) = text {
            if parse_into_with(&mut o, source, text, unknown).is_err() {
                return Ok(None);
            }
        }
    }
    let Some(sarif_path) = o.sarif_path.clone() else {
        return Ok(None);
    };
    let root = SourceRoot::new(Path::new("."))?;
    let mut options = umbra_options.unwrap_or_default().to_owned();
    let mut add = |pair: String| {
        if !options.trim().is_empty() {
            options.push(':');
        }
        options.push_str(&pair);
    };
    add("sarif_path=".to_owned());
    let source = match o.json_path.as_deref() {
        None => {
            let dir = std::env::temp_dir().join(format!(
                "umbra-sarif-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default()
            ));
            fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
            let file = dir.join("reports.jsonl");
            let path = file
                .to_str()
                .filter(|p| !p.contains('"'))
                .ok_or_else(|| format!("temp path {} is not usable", file.display()))?;
            add(format!("json_path={}", option_value(path)));
            JsonSource::Temp { dir, file }
        }
        Some(user) => {
            let pattern = match output_target(user, 0, true) {
                OutputTarget::Stderr | OutputTarget::Stdout => {
                    return Err(format!(
                        "sarif_path needs the JSON reports in a file, but json_path={user}; \
                         set json_path to a file (or leave it unset)"
                    ))
                }
                OutputTarget::File(_) if user.ends_with(".jsonl") => {
                    UserJson::Exact(PathBuf::from(user))
                }
                OutputTarget::File(_) => {
                    let p = Path::new(user);
                    let dir = match p.parent() {
                        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                        _ => PathBuf::from("."),
                    };
                    let prefix = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    UserJson::PerPid { dir, prefix }
                }
            };
            let sizes_before = pattern
                .files()
                .into_iter()
                .filter_map(|f| fs::metadata(&f).ok().map(|m| (f, m.len())))
                .collect();
            JsonSource::User {
                pattern,
                sizes_before,
            }
        }
    };
    Ok(Some((
        SarifCapture {
            sarif_path: PathBuf::from(sarif_path),
            root,
            source,
        },
        options,
    )))
}

/// The bytes of `file` from `offset` on (nothing when it does not exist).
fn read_from(file: &Path, offset: u64) -> Result<String, String> {
    let Ok(mut f) = fs::File::open(file) else {
        return Ok(String::new());
    };
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| format!("reading {}: {e}", file.display()))?;
    let mut text = String::new();
    f.read_to_string(&mut text)
        .map_err(|e| format!("reading {}: {e}", file.display()))?;
    Ok(text)
}

impl SarifCapture {
    /// After the run: converts the reports it wrote into `sarif_path` (an empty log
    /// when there were none) and says so on stderr; removes our temp file.
    pub fn finish(self) -> Result<(), String> {
        let mut reports_found = Vec::new();
        match &self.source {
            JsonSource::Temp { file, .. } => {
                let text = read_from(file, 0)?;
                reports_found.extend(reports::parse(&text, &file.display().to_string())?);
            }
            JsonSource::User {
                pattern,
                sizes_before,
            } => {
                for f in pattern.files() {
                    let from = sizes_before.get(&f).copied().unwrap_or(0);
                    let text = read_from(&f, from)?;
                    reports_found.extend(reports::parse(&text, &f.display().to_string())?);
                }
            }
        }
        if let JsonSource::Temp { dir, .. } = &self.source {
            let _ = fs::remove_dir_all(dir);
        }
        let text = sarif::to_sarif_text(&reports_found, &self.root);
        fs::write(&self.sarif_path, text)
            .map_err(|e| format!("writing {}: {e}", self.sarif_path.display()))?;
        eprintln!(
            "umbra: wrote {} result{} to {}",
            reports_found.len(),
            if reports_found.len() == 1 { "" } else { "s" },
            self.sarif_path.display()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_unparsable_options_capture_nothing() {
        assert!(prepare(None, None).unwrap().is_none());
        assert!(prepare(Some("json_path=x.jsonl"), None).unwrap().is_none());
        assert!(prepare(None, Some("sarif_path=x.sarif:bogus_flag=1"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn our_json_path_follows_the_users_options() {
        let (capture, options) = prepare(Some("sarif_path=out.sarif"), Some("exitcode=3"))
            .unwrap()
            .unwrap();
        assert!(options.starts_with("exitcode=3:sarif_path=:json_path="));
        let JsonSource::Temp { dir, .. } = &capture.source else {
            panic!("expected a temp file");
        };
        assert!(dir.is_dir());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_users_json_path_is_kept() {
        let (capture, options) = prepare(None, Some("json_path=r.jsonl:sarif_path=o.sarif"))
            .unwrap()
            .unwrap();
        assert_eq!(options, "json_path=r.jsonl:sarif_path=o.sarif:sarif_path=");
        assert!(matches!(
            capture.source,
            JsonSource::User {
                pattern: UserJson::Exact(_),
                ..
            }
        ));
        assert!(prepare(None, Some("json_path=stderr:sarif_path=o.sarif")).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(option_value("/tmp/a"), "/tmp/a");
        assert_eq!(option_value("/tmp/a b"), "\"/tmp/a b\"");
    }
}
