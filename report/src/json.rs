//! Machine-readable reports: one JSON object per report, on one line.
//!
//! The schema is documented in `report/SCHEMA.md`. Stacks are symbolized and filtered
//! exactly as for the text report (same `hide_frame`, same `strip_path_prefix` on
//! file paths), so the two forms always name the same frames. The writer and its
//! string escaper are hand-written: the runtime has no serde.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::model::{Access, AccessKind, Location, Report};
use crate::symbolize::{Frame, Symbolizer};
use crate::text::{resolve_stack, strip_path_prefix, summary_frame, FormatOptions};

/// Appends `s` as a JSON string literal (quotes included). Escapes `"`, `\` and all
/// control characters; everything else (valid UTF-8) is copied as is.
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            // U+2028/2029 are valid JSON but break JavaScript consumers.
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_opt_string(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_json_string(out, s),
        None => out.push_str("null"),
    }
}

fn push_hex(out: &mut String, v: u64) {
    let _ = write!(out, "\"{:#x}\"", v);
}

fn push_thread(out: &mut String, tid: u32) {
    if tid == 0 {
        out.push_str("\"main\"");
    } else {
        let _ = write!(out, "\"T{}\"", tid);
    }
}

fn push_frame(out: &mut String, f: &Frame, opts: &FormatOptions) {
    out.push_str("{\"function\":");
    push_opt_string(out, f.function.as_deref());
    out.push_str(",\"file\":");
    push_opt_string(
        out,
        f.file
            .as_deref()
            .map(|p| strip_path_prefix(p, &opts.strip_path_prefix)),
    );
    let _ = write!(
        out,
        ",\"line\":{},\"column\":{},\"module\":",
        f.line, f.column
    );
    push_json_string(out, &f.module);
    out.push_str(",\"offset\":");
    push_hex(out, f.module_offset);
    out.push('}');
}

fn push_frames(out: &mut String, frames: &[Frame], opts: &FormatOptions) {
    out.push('[');
    for (i, f) in frames.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_frame(out, f, opts);
    }
    out.push(']');
}

fn push_stack(out: &mut String, stack: &[u64], sym: &mut Symbolizer, opts: &FormatOptions) {
    let frames: Vec<Frame> = resolve_stack(stack, sym, opts);
    push_frames(out, &frames, opts);
}

fn access_type(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Write => "write",
        AccessKind::Read => "read",
        AccessKind::AtomicWrite => "atomic write",
        AccessKind::AtomicRead => "atomic read",
    }
}

fn push_access(out: &mut String, a: &Access, sym: &mut Symbolizer, opts: &FormatOptions) {
    out.push_str("{\"type\":");
    push_json_string(out, access_type(a.kind));
    let _ = write!(out, ",\"size\":{},\"addr\":", a.size);
    push_hex(out, a.addr);
    out.push_str(",\"thread\":");
    push_thread(out, a.thread);
    out.push_str(",\"mutexes\":[");
    for (i, &(id, write)) in a.mutexes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"id\":\"M{}\",\"write\":{}}}", id, write);
    }
    out.push_str("],\"stack\":");
    match &a.stack {
        Some(s) => push_stack(out, s, sym, opts),
        None => out.push_str("null"),
    }
    out.push('}');
}

fn push_location(out: &mut String, loc: &Location, sym: &mut Symbolizer, opts: &FormatOptions) {
    match loc {
        Location::None => out.push_str("null"),
        Location::Global { addr } => {
            out.push_str("{\"type\":\"global\",\"addr\":");
            push_hex(out, *addr);
            match sym.global_symbol(*addr) {
                Some(g) => {
                    out.push_str(",\"name\":");
                    push_json_string(out, &g.name);
                    let _ = write!(out, ",\"size\":{},\"start\":", g.size);
                    push_hex(out, g.start);
                    out.push_str(",\"module\":");
                    push_json_string(out, &g.module);
                    out.push_str(",\"offset\":");
                    push_hex(out, g.module_offset);
                }
                None => out.push_str(
                    ",\"name\":null,\"size\":null,\"start\":null,\"module\":null,\"offset\":null",
                ),
            }
            out.push('}');
        }
        Location::Heap {
            block,
            size,
            thread,
            stack,
        } => {
            out.push_str("{\"type\":\"heap\",\"addr\":");
            push_hex(out, *block);
            let _ = write!(out, ",\"size\":{},\"thread\":", size);
            push_thread(out, *thread);
            out.push_str(",\"stack\":");
            push_stack(out, stack, sym, opts);
            out.push('}');
        }
        Location::Stack { thread } => {
            out.push_str("{\"type\":\"stack\",\"thread\":");
            push_thread(out, *thread);
            out.push('}');
        }
        Location::Tls { thread } => {
            out.push_str("{\"type\":\"tls\",\"thread\":");
            push_thread(out, *thread);
            out.push('}');
        }
        Location::Fd {
            fd,
            thread,
            stack,
            destroyed,
        } => {
            let _ = write!(
                out,
                "{{\"type\":\"fd\",\"fd\":{},\"destroyed\":{},\"thread\":",
                fd, destroyed
            );
            push_thread(out, *thread);
            out.push_str(",\"stack\":");
            push_stack(out, stack, sym, opts);
            out.push('}');
        }
    }
}

/// Formats `r` as one JSON object on one line, without a trailing newline (schema in
/// `report/SCHEMA.md`). A race's fields come first and keep their order; a report
/// of another kind has `null` accesses and its own sections in `stacks`, `signal`
/// and `count`, which follow `summary`.
pub fn format_json(r: &Report, sym: &mut Symbolizer, opts: &FormatOptions) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("{\"kind\":");
    push_json_string(&mut out, r.kind.as_str());
    let _ = write!(out, ",\"pid\":{}", r.pid);
    for (i, field) in [",\"current\":", ",\"previous\":"].into_iter().enumerate() {
        out.push_str(field);
        match r.accesses.get(i) {
            Some(a) => push_access(&mut out, a, sym, opts),
            None => out.push_str("null"),
        }
    }
    out.push_str(",\"sleep\":");
    match &r.sleep_stack {
        Some(s) => push_stack(&mut out, s, sym, opts),
        None => out.push_str("null"),
    }
    out.push_str(",\"location\":");
    push_location(&mut out, &r.location, sym, opts);
    out.push_str(",\"mutexes\":[");
    for (i, m) in r.mutexes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"id\":\"M{}\",\"addr\":", m.id);
        push_hex(&mut out, m.addr);
        out.push_str(",\"stack\":");
        push_stack(&mut out, &m.stack, sym, opts);
        out.push('}');
    }
    out.push_str("],\"threads\":[");
    for (i, t) in r.threads.iter().filter(|t| t.id != 0).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"id\":");
        push_thread(&mut out, t.id);
        let _ = write!(
            out,
            ",\"tid\":{},\"running\":{},\"name\":",
            t.os_tid, t.running
        );
        push_opt_string(&mut out, t.name.as_deref());
        out.push_str(",\"parent\":");
        push_thread(&mut out, t.parent);
        out.push_str(",\"stack\":");
        push_stack(&mut out, &t.stack, sym, opts);
        out.push('}');
    }
    out.push_str("],\"summary\":");
    match summary_frame(r, sym, opts) {
        Some(f) => {
            out.push_str("{\"file\":");
            push_opt_string(
                &mut out,
                f.file
                    .as_deref()
                    .map(|p| strip_path_prefix(p, &opts.strip_path_prefix)),
            );
            let _ = write!(
                out,
                ",\"line\":{},\"column\":{},\"function\":",
                f.line, f.column
            );
            push_opt_string(&mut out, f.function.as_deref());
            out.push_str(",\"module\":");
            push_json_string(&mut out, &f.module);
            out.push_str(",\"offset\":");
            push_hex(&mut out, f.module_offset);
            out.push('}');
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"stacks\":[");
    for (i, st) in r.stacks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_stack(&mut out, st, sym, opts);
    }
    out.push_str("],\"signal\":");
    match r.signal {
        Some(sig) => {
            let _ = write!(out, "{}", sig);
        }
        None => out.push_str("null"),
    }
    let _ = write!(out, ",\"count\":{}", r.count);
    out.push_str(",\"cycle\":[");
    let n = r.mutexes.len();
    for (i, &tid) in r.cycle_threads.iter().enumerate().filter(|_| n > 0) {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"from\":\"M{}\",\"to\":\"M{}\",\"thread\":",
            r.mutexes[i % n].id,
            r.mutexes[(i + 1) % n].id
        );
        push_thread(&mut out, tid);
        out.push('}');
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaper() {
        let mut s = String::new();
        push_json_string(&mut s, "a\"b\\c\nd\u{1}e\u{7f}é\u{2028}");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001e\\u007fé\\u2028\"");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v.as_str().unwrap(), "a\"b\\c\nd\u{1}e\u{7f}é\u{2028}");
    }
}
