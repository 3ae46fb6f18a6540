//! Text and JSON formatting of hand-built reports whose stacks are real return
//! addresses of this test binary. The expected text is assembled from `line!()`,
//! `column!()`, the binary's own module offsets and TSan's format strings.

use std::arch::naked_asm;
use std::fmt::Write;
use std::sync::atomic::{AtomicU32, Ordering};

use umbra_report::{
    format_json, format_text, summary_line, Access, AccessKind, FormatOptions, Frame, Location,
    MutexDesc, Report, ReportKind, Symbolizer, ThreadDesc,
};

// SAFETY (naked function): the body only loads the return address that the
// caller's `call` pushed at [rsp] and returns; no stack frame, nothing else touched.
#[unsafe(naked)]
extern "C" fn return_address() -> u64 {
    naked_asm!("mov rax, [rsp]", "ret")
}

/// `return_address(), ` is 18 characters: the call starts 18 columns before the
/// `column!()` that follows it on the same line.
const CALL_TO_COLUMN: u32 = 18;

struct Site {
    ra: u64,
    line: u32,
    column: u32,
}

#[inline(never)]
#[rustfmt::skip]
fn access_site() -> Site { let (ra, col) = (return_address(), column!()); Site { ra, line: line!(), column: col - CALL_TO_COLUMN } }

#[inline(never)]
#[rustfmt::skip]
fn caller_site() -> Site { let (ra, col) = (return_address(), column!()); Site { ra, line: line!(), column: col - CALL_TO_COLUMN } }

#[inline(never)]
#[rustfmt::skip]
fn hidden_runtime_fn() -> Site { let (ra, col) = (return_address(), column!()); Site { ra, line: line!(), column: col - CALL_TO_COLUMN } }

#[inline(always)]
#[rustfmt::skip]
fn inlined_helper() -> Site { let (ra, col) = (return_address(), column!()); Site { ra, line: line!(), column: col - CALL_TO_COLUMN } }

#[inline(never)]
#[rustfmt::skip]
fn outer_with_inline() -> (Site, u32) { let s = inlined_helper(); (s, line!()) }

#[no_mangle]
pub static UMBRA_FMT_GLOBAL: AtomicU32 = AtomicU32::new(0);

fn hide(f: &Frame) -> bool {
    f.function
        .as_deref()
        .is_some_and(|n| n.ends_with("hidden_runtime_fn"))
}

fn opts() -> FormatOptions {
    FormatOptions {
        strip_path_prefix: format!("{}/", env!("CARGO_MANIFEST_DIR")),
        hide_frame: hide,
        fold_std_frames: false,
    }
}

fn exe_name() -> String {
    std::env::current_exe()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

/// The expected frame line for `site` called from `func`.
fn frame_line(sym: &mut Symbolizer, n: usize, func: &str, site: &Site) -> String {
    let off = sym.module_of(site.ra - 1).unwrap().1;
    format!(
        "    #{n} format::{func} tests/format.rs:{}:{} ({}+{:#x})\n",
        site.line,
        site.column,
        exe_name(),
        off
    )
}

fn access(
    kind: AccessKind,
    addr: u64,
    thread: u32,
    mutexes: Vec<(u32, bool)>,
    stack: Option<Vec<u64>>,
) -> Access {
    Access {
        kind,
        size: 4,
        addr,
        thread,
        mutexes,
        stack,
    }
}

#[test]
fn data_race_full_text() {
    let a = access_site();
    let c = caller_site();
    let g = &UMBRA_FMT_GLOBAL as *const AtomicU32 as u64;
    UMBRA_FMT_GLOBAL.store(1, Ordering::Relaxed);
    let r = Report {
        kind: ReportKind::DataRace,
        pid: 19219,
        accesses: vec![
            access(
                AccessKind::Write,
                g,
                1,
                vec![(0, true), (1, false)],
                Some(vec![a.ra, c.ra]),
            ),
            access(AccessKind::Read, g, 0, vec![], None),
        ],
        location: Location::Global { addr: g },
        mutexes: vec![
            MutexDesc {
                id: 0,
                addr: 0x7b0c00000000,
                stack: vec![c.ra],
            },
            MutexDesc {
                id: 1,
                addr: 0x7b0c00000010,
                stack: vec![],
            },
        ],
        threads: vec![
            ThreadDesc {
                id: 1,
                os_tid: 19220,
                running: true,
                name: None,
                parent: 0,
                stack: vec![c.ra],
            },
            ThreadDesc {
                id: 2,
                os_tid: 19221,
                running: false,
                name: Some("worker".into()),
                parent: 1,
                stack: vec![],
            },
            ThreadDesc {
                id: 0,
                os_tid: 19219,
                running: true,
                name: None,
                parent: 0,
                stack: vec![],
            },
        ],
        sleep_stack: Some(vec![c.ra]),
        stacks: vec![],
        signal: None,
        count: 1,
        cycle_threads: Vec::new(),
    };
    let mut sym = Symbolizer::new();
    let o = opts();
    let text = format_text(&r, &mut sym, &o);

    let gp = format!("0x{:012x}", g);
    let goff = sym.module_of(g).unwrap().1;
    let mut e = String::new();
    e.push_str("==================\n");
    e.push_str("WARNING: ThreadSanitizer: data race (pid=19219)\n");
    writeln!(
        e,
        "  Write of size 4 at {gp} by thread T1 (mutexes: write M0, read M1):"
    )
    .unwrap();
    e += &frame_line(&mut sym, 0, "access_site", &a);
    e += &frame_line(&mut sym, 1, "caller_site", &c);
    e.push('\n');
    writeln!(e, "  Previous read of size 4 at {gp} by main thread:").unwrap();
    e.push_str("    [failed to restore the stack]\n\n");
    e.push_str("  As if synchronized via sleep:\n");
    e += &frame_line(&mut sym, 0, "caller_site", &c);
    e.push('\n');
    writeln!(
        e,
        "  Location is global 'UMBRA_FMT_GLOBAL' of size 4 at {gp} ({}+{:#x})\n",
        exe_name(),
        goff
    )
    .unwrap();
    e.push_str("  Mutex M0 (0x7b0c00000000) created at:\n");
    e += &frame_line(&mut sym, 0, "caller_site", &c);
    e.push('\n');
    e.push_str("  Mutex M1 (0x7b0c00000010) created at:\n");
    e.push_str("    [failed to restore the stack]\n\n");
    e.push_str("  Thread T1 (tid=19220, running) created by main thread at:\n");
    e += &frame_line(&mut sym, 0, "caller_site", &c);
    e.push('\n');
    e.push_str("  Thread T2 'worker' (tid=19221, finished) created by thread T1\n");
    e.push_str("    [failed to restore the stack]\n\n");
    writeln!(
        e,
        "SUMMARY: ThreadSanitizer: data race tests/format.rs:{}:{} in format::access_site",
        a.line, a.column
    )
    .unwrap();
    e.push_str("==================\n");
    assert_eq!(text, e, "\n--- got ---\n{text}\n--- expected ---\n{e}");

    assert_eq!(
        summary_line(&r, &mut sym, &o),
        e.lines().nth(e.lines().count() - 2).unwrap()
    );
}

#[test]
fn other_locations_kinds_and_frames() {
    let a = access_site();
    let c = caller_site();
    let h = hidden_runtime_fn();
    let (inl, outer_line) = outer_with_inline();
    let mut sym = Symbolizer::new();
    let o = opts();
    let inl_off = sym.module_of(inl.ra - 1).unwrap().1;
    let mut r = Report {
        kind: ReportKind::HeapUseAfterFree,
        pid: 7,
        accesses: vec![
            access(
                AccessKind::AtomicWrite,
                0x7b0400000008,
                3,
                vec![],
                Some(vec![h.ra, inl.ra, 0x11, 0, c.ra]),
            ),
            Access {
                size: 8,
                ..access(
                    AccessKind::Write,
                    0x7b0400000000,
                    2,
                    vec![(5, true)],
                    Some(vec![c.ra]),
                )
            },
        ],
        location: Location::Heap {
            block: 0x7b0400000000,
            size: 16,
            thread: 0,
            stack: vec![a.ra],
        },
        mutexes: vec![],
        threads: vec![],
        sleep_stack: None,
        stacks: vec![],
        signal: None,
        count: 1,
        cycle_threads: Vec::new(),
    };
    let text = format_text(&r, &mut sym, &o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "==================");
    assert_eq!(
        lines[1],
        "WARNING: ThreadSanitizer: heap-use-after-free (pid=7)"
    );
    assert_eq!(
        lines[2],
        "  Atomic write of size 4 at 0x7b0400000008 by thread T3:"
    );
    // hidden frame dropped, inlined frames numbered separately, unknown pc, stop at 0.
    assert_eq!(
        format!("{}\n", lines[3]),
        format!(
            "    #0 format::inlined_helper tests/format.rs:{}:{} ({}+{:#x})\n",
            inl.line,
            inl.column,
            exe_name(),
            inl_off
        )
    );
    assert!(
        lines[4].starts_with(&format!(
            "    #1 format::outer_with_inline tests/format.rs:{outer_line}:"
        )),
        "{text}"
    );
    assert!(
        lines[4].ends_with(&format!("({}+{:#x})", exe_name(), inl_off)),
        "{text}"
    );
    assert_eq!(lines[5], "    #2 <null> <null> (0x000000000011)"); // the return address itself, as TSan
    assert_eq!(lines[6], "");
    assert_eq!(
        lines[7],
        "  Previous write of size 8 at 0x7b0400000000 by thread T2 (mutexes: write M5):"
    );
    assert_eq!(
        format!("{}\n", lines[8]),
        frame_line(&mut sym, 0, "caller_site", &c)
    );
    assert_eq!(lines[9], "");
    assert_eq!(
        lines[10],
        "  Location is heap block of size 16 at 0x7b0400000000 allocated by main thread:"
    );
    assert_eq!(
        format!("{}\n", lines[11]),
        frame_line(&mut sym, 0, "access_site", &a)
    );
    assert_eq!(lines[12], "");
    assert_eq!(
        lines[13],
        format!("SUMMARY: ThreadSanitizer: heap-use-after-free tests/format.rs:{}:{} in format::inlined_helper", inl.line, inl.column)
    );
    assert_eq!(lines[14], "==================");
    assert_eq!(lines.len(), 15);
    assert!(!text.contains("hidden_runtime_fn"));

    // Remaining kinds and locations.
    let kinds = [
        (AccessKind::Read, "Read", "Previous read"),
        (AccessKind::Write, "Write", "Previous write"),
        (
            AccessKind::AtomicRead,
            "Atomic read",
            "Previous atomic read",
        ),
        (
            AccessKind::AtomicWrite,
            "Atomic write",
            "Previous atomic write",
        ),
    ];
    for (k, cur, prev) in kinds {
        r.accesses[0].kind = k;
        r.accesses[1].kind = k;
        let t = format_text(&r, &mut sym, &o);
        assert!(
            t.contains(&format!(
                "\n  {cur} of size 4 at 0x7b0400000008 by thread T3:\n"
            )),
            "{t}"
        );
        assert!(t.contains(&format!(
            "\n  {prev} of size 8 at 0x7b0400000000 by thread T2 (mutexes: write M5):\n"
        )));
    }
    let locs = [
        (
            Location::Stack { thread: 0 },
            "  Location is stack of main thread.\n\n",
        ),
        (
            Location::Stack { thread: 4 },
            "  Location is stack of thread T4.\n\n",
        ),
        (
            Location::Tls { thread: 0 },
            "  Location is TLS of main thread.\n\n",
        ),
        (
            Location::Tls { thread: 9 },
            "  Location is TLS of thread T9.\n\n",
        ),
    ];
    for (loc, want) in locs {
        r.location = loc;
        let t = format_text(&r, &mut sym, &o);
        assert!(t.contains(want), "{t}");
    }
    r.location = Location::Fd {
        fd: 5,
        thread: 2,
        stack: vec![c.ra],
        destroyed: false,
    };
    let t = format_text(&r, &mut sym, &o);
    let want = format!(
        "  Location is file descriptor 5 created by thread T2 at:\n{}\n",
        frame_line(&mut sym, 0, "caller_site", &c)
    );
    assert!(t.contains(&want), "{t}");
    r.location = Location::Fd {
        fd: 6,
        thread: 0,
        stack: vec![],
        destroyed: true,
    };
    let t = format_text(&r, &mut sym, &o);
    assert!(t.contains("  Location is file descriptor 6 destroyed by main thread at:\n    [failed to restore the stack]\n\n"));
    // A global address with no symbol prints no location line.
    r.location = Location::Global { addr: 0x10 };
    let t = format_text(&r, &mut sym, &o);
    assert!(!t.contains("Location"), "{t}");

    // Current stack entirely hidden: failed-to-restore line and no SUMMARY.
    r.accesses[0].stack = Some(vec![h.ra]);
    let t = format_text(&r, &mut sym, &o);
    assert!(
        t.contains("by thread T3:\n    [failed to restore the stack]\n\n"),
        "{t}"
    );
    assert!(!t.contains("SUMMARY"));
    assert_eq!(summary_line(&r, &mut sym, &o), "");
    // Unknown frame only: module location instead of file, no function.
    r.accesses[0].stack = Some(vec![0x11]);
    assert_eq!(
        summary_line(&r, &mut sym, &o),
        "SUMMARY: ThreadSanitizer: heap-use-after-free (<unknown module>) "
    );
}

#[test]
fn default_options_keep_full_paths() {
    let a = access_site();
    let mut sym = Symbolizer::new();
    let r = Report {
        kind: ReportKind::DataRace,
        pid: 1,
        accesses: vec![
            access(AccessKind::Write, 0x1000, 0, vec![], Some(vec![a.ra])),
            access(AccessKind::Write, 0x1000, 1, vec![], Some(vec![a.ra])),
        ],
        location: Location::None,
        mutexes: vec![],
        threads: vec![],
        sleep_stack: None,
        stacks: vec![],
        signal: None,
        count: 1,
        cycle_threads: Vec::new(),
    };
    let t = format_text(&r, &mut sym, &FormatOptions::default());
    let want = format!(
        "{}/tests/format.rs:{}:{} in format::access_site\n",
        env!("CARGO_MANIFEST_DIR"),
        a.line,
        a.column
    );
    assert!(t.contains(&want), "{t}");
    assert!(t.contains("  Write of size 4 at 0x000000001000 by main thread:\n"));
}

#[test]
fn json_round_trip() {
    let a = access_site();
    let c = caller_site();
    let g = &UMBRA_FMT_GLOBAL as *const AtomicU32 as u64;
    let r = Report {
        kind: ReportKind::DataRace,
        pid: 4242,
        accesses: vec![
            access(
                AccessKind::AtomicRead,
                g,
                1,
                vec![(0, true), (3, false)],
                Some(vec![a.ra, c.ra, 0x11]),
            ),
            access(AccessKind::Write, g, 0, vec![], None),
        ],
        location: Location::Global { addr: g },
        mutexes: vec![MutexDesc {
            id: 0,
            addr: 0x7b0c00000000,
            stack: vec![c.ra],
        }],
        threads: vec![ThreadDesc {
            id: 1,
            os_tid: 99,
            running: false,
            name: Some("we\"ird\\name\n".into()),
            parent: 0,
            stack: vec![c.ra],
        }],
        sleep_stack: None,
        stacks: vec![],
        signal: None,
        count: 1,
        cycle_threads: Vec::new(),
    };
    let mut sym = Symbolizer::new();
    let o = opts();
    let j = format_json(&r, &mut sym, &o);
    assert!(!j.contains('\n') && !j.ends_with('\n'));
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["kind"], "data race");
    assert_eq!(v["pid"], 4242);
    let cur = &v["current"];
    assert_eq!(cur["type"], "atomic read");
    assert_eq!(cur["size"], 4);
    assert_eq!(cur["addr"], format!("{:#x}", g));
    assert_eq!(cur["thread"], "T1");
    assert_eq!(cur["mutexes"][0]["id"], "M0");
    assert_eq!(cur["mutexes"][0]["write"], true);
    assert_eq!(cur["mutexes"][1]["id"], "M3");
    assert_eq!(cur["mutexes"][1]["write"], false);
    let st = cur["stack"].as_array().unwrap();
    assert_eq!(st.len(), 3);
    assert_eq!(st[0]["function"], "format::access_site");
    assert_eq!(st[0]["file"], "tests/format.rs");
    assert_eq!(st[0]["line"], a.line);
    assert_eq!(st[0]["column"], a.column);
    assert_eq!(
        st[0]["module"],
        std::env::current_exe().unwrap().to_str().unwrap()
    );
    assert_eq!(
        st[0]["offset"],
        format!("{:#x}", sym.module_of(a.ra - 1).unwrap().1)
    );
    assert_eq!(st[1]["function"], "format::caller_site");
    assert_eq!(st[2]["function"], serde_json::Value::Null);
    assert_eq!(st[2]["file"], serde_json::Value::Null);
    assert_eq!(st[2]["module"], "");
    assert_eq!(st[2]["offset"], "0x11");
    let prev = &v["previous"];
    assert_eq!(prev["type"], "write");
    assert_eq!(prev["thread"], "main");
    assert!(prev["stack"].is_null());
    assert!(v["sleep"].is_null());
    let loc = &v["location"];
    assert_eq!(loc["type"], "global");
    assert_eq!(loc["name"], "UMBRA_FMT_GLOBAL");
    assert_eq!(loc["size"], 4);
    assert_eq!(loc["start"], format!("{:#x}", g));
    assert_eq!(v["mutexes"][0]["id"], "M0");
    assert_eq!(v["mutexes"][0]["addr"], "0x7b0c00000000");
    assert_eq!(
        v["mutexes"][0]["stack"][0]["function"],
        "format::caller_site"
    );
    let t = &v["threads"][0];
    assert_eq!(t["id"], "T1");
    assert_eq!(t["tid"], 99);
    assert_eq!(t["running"], false);
    assert_eq!(t["name"], "we\"ird\\name\n");
    assert_eq!(t["parent"], "main");
    assert_eq!(v["summary"]["file"], "tests/format.rs");
    assert_eq!(v["summary"]["line"], a.line);
    assert_eq!(v["summary"]["function"], "format::access_site");

    // Other location shapes parse too.
    let mut r2 = r.clone();
    for loc in [
        Location::None,
        Location::Heap {
            block: 0x10,
            size: 3,
            thread: 2,
            stack: vec![c.ra],
        },
        Location::Stack { thread: 0 },
        Location::Tls { thread: 1 },
        Location::Fd {
            fd: -1,
            thread: 0,
            stack: vec![],
            destroyed: true,
        },
        Location::Global { addr: 0x10 },
    ] {
        r2.location = loc.clone();
        r2.accesses[0].stack = None;
        r2.sleep_stack = Some(vec![]);
        let v: serde_json::Value = serde_json::from_str(&format_json(&r2, &mut sym, &o)).unwrap();
        match loc {
            Location::None => assert!(v["location"].is_null()),
            Location::Heap { .. } => {
                assert_eq!(v["location"]["type"], "heap");
                assert_eq!(v["location"]["size"], 3);
                assert_eq!(v["location"]["thread"], "T2");
                assert_eq!(v["location"]["stack"][0]["function"], "format::caller_site");
            }
            Location::Stack { .. } => assert_eq!(v["location"]["thread"], "main"),
            Location::Tls { .. } => assert_eq!(v["location"]["type"], "tls"),
            Location::Fd { .. } => {
                assert_eq!(v["location"]["fd"], -1);
                assert_eq!(v["location"]["destroyed"], true);
            }
            Location::Global { .. } => assert!(v["location"]["name"].is_null()),
        }
        assert!(v["summary"].is_null());
        assert_eq!(v["sleep"], serde_json::json!([]));
    }
}

#[test]
fn thread_leak_and_mutex_misuse_text() {
    let a = access_site();
    let c = caller_site();
    let mut sym = Symbolizer::new();
    let o = opts();

    let mut leak = Report::new(ReportKind::ThreadLeak, 11);
    leak.threads.push(ThreadDesc {
        id: 1,
        os_tid: 12,
        running: false,
        name: None,
        parent: 0,
        stack: vec![a.ra, c.ra],
    });
    leak.count = 3;
    let want = format!(
        "==================\n\
         WARNING: ThreadSanitizer: thread leak (pid=11)\n\
         \x20 Thread T1 (tid=12, finished) created by main thread at:\n\
         {}{}\n\
         \x20 And 2 more similar thread leaks.\n\n\
         SUMMARY: ThreadSanitizer: thread leak tests/format.rs:{}:{} in format::access_site\n\
         ==================\n",
        frame_line(&mut sym, 0, "access_site", &a),
        frame_line(&mut sym, 1, "caller_site", &c),
        a.line,
        a.column
    );
    assert_eq!(format_text(&leak, &mut sym, &o), want);
    leak.count = 1;
    assert!(!format_text(&leak, &mut sym, &o).contains("more similar"));

    let mut misuse = Report::new(ReportKind::MutexDestroyLocked, 13);
    misuse.stacks = vec![vec![c.ra], vec![a.ra]];
    misuse.location = Location::Stack { thread: 0 };
    misuse.mutexes.push(MutexDesc {
        id: 0,
        addr: 0x7ffc00001000,
        stack: vec![a.ra],
    });
    let want = format!(
        "==================\n\
         WARNING: ThreadSanitizer: destroy of a locked mutex (pid=13)\n\
         {}\n\
         \x20 and:\n\
         {}\n\
         \x20 Location is stack of main thread.\n\n\
         \x20 Mutex M0 (0x7ffc00001000) created at:\n\
         {}\n\
         SUMMARY: ThreadSanitizer: destroy of a locked mutex tests/format.rs:{}:{} in format::caller_site\n\
         ==================\n",
        frame_line(&mut sym, 0, "caller_site", &c),
        frame_line(&mut sym, 0, "access_site", &a),
        frame_line(&mut sym, 0, "access_site", &a),
        c.line,
        c.column
    );
    assert_eq!(format_text(&misuse, &mut sym, &o), want);

    let mut errno = Report::new(ReportKind::ErrnoInSignal, 14);
    errno.signal = Some(10);
    errno.stacks = vec![vec![a.ra]];
    let text = format_text(&errno, &mut sym, &o);
    assert!(
        text.starts_with(
            "==================\nWARNING: ThreadSanitizer: signal handler spoils errno (pid=14)\n  Signal 10 handler invoked at:\n    #0 format::access_site"
        ),
        "{text}"
    );
}

#[test]
fn lock_order_inversion_text() {
    let a = access_site();
    let c = caller_site();
    let mut sym = Symbolizer::new();
    let o = opts();
    let mutex = |id, addr| MutexDesc {
        id,
        addr,
        stack: vec![a.ra],
    };
    let mut r = Report::new(ReportKind::Deadlock, 15);
    r.mutexes = vec![mutex(0, 0x1000), mutex(1, 0x2000)];
    r.cycle_threads = vec![0, 1];
    r.stacks = vec![vec![a.ra], vec![c.ra]];
    r.threads.push(ThreadDesc {
        id: 1,
        os_tid: 16,
        running: true,
        name: None,
        parent: 0,
        stack: vec![c.ra],
    });
    // One stack per edge: the hint after the first; no "created at" sections.
    let want = format!(
        "==================\n\
         WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=15)\n\
         \x20 Cycle in lock order graph: M0 (0x000000001000) => M1 (0x000000002000) => M0\n\n\
         \x20 Mutex M1 acquired here while holding mutex M0 in main thread:\n\
         {}\n\
         \x20   HINT: use TSAN_OPTIONS=second_deadlock_stack=1 to get more informative warning message\n\n\
         \x20 Mutex M0 acquired here while holding mutex M1 in thread T1:\n\
         {}\n\
         \x20 Thread T1 (tid=16, running) created by main thread at:\n\
         {}\n\
         SUMMARY: ThreadSanitizer: lock-order-inversion (potential deadlock) tests/format.rs:{}:{} in format::access_site\n\
         ==================\n",
        frame_line(&mut sym, 0, "access_site", &a),
        frame_line(&mut sym, 0, "caller_site", &c),
        frame_line(&mut sym, 0, "caller_site", &c),
        a.line,
        a.column
    );
    assert_eq!(format_text(&r, &mut sym, &o), want);

    // Two stacks per edge (second_deadlock_stack): where the first mutex was taken.
    r.stacks = vec![vec![a.ra], vec![c.ra], vec![c.ra], vec![]];
    let text = format_text(&r, &mut sym, &o);
    let want_edge = format!(
        "  Mutex M1 acquired here while holding mutex M0 in main thread:\n\
         {}\n\
         \x20 Mutex M0 previously acquired by the same thread here:\n\
         {}\n\
         \x20 Mutex M0 acquired here while holding mutex M1 in thread T1:\n\
         {}\n\
         \x20 Mutex M1 previously acquired by the same thread here:\n\
         \x20   [failed to restore the stack]\n\n",
        frame_line(&mut sym, 0, "access_site", &a),
        frame_line(&mut sym, 0, "caller_site", &c),
        frame_line(&mut sym, 0, "caller_site", &c),
    );
    assert!(text.contains(&want_edge), "{text}");
    assert!(!text.contains("HINT"), "{text}");

    // JSON: the edges in order, with their threads.
    let v: serde_json::Value = serde_json::from_str(&format_json(&r, &mut sym, &o)).unwrap();
    assert_eq!(
        v["cycle"],
        serde_json::json!([
            {"from": "M0", "to": "M1", "thread": "main"},
            {"from": "M1", "to": "M0", "thread": "T1"}
        ])
    );
}

#[test]
fn ignores_enabled_text() {
    let a = access_site();
    let c = caller_site();
    let mut sym = Symbolizer::new();
    let o = opts();
    let text =
        umbra_report::format_ignores_enabled(Some((2, &[c.ra])), &[vec![a.ra]], &mut sym, &o);
    let want = format!(
        "ThreadSanitizer: thread T2  finished with ignores enabled, created at:\n\
         {}\n\
         \x20 One of the following ignores was not ended (in order of probability)\n\
         \x20 Ignore was enabled at:\n\
         {}\n",
        frame_line(&mut sym, 0, "caller_site", &c),
        frame_line(&mut sym, 0, "access_site", &a),
    );
    assert_eq!(text, want);
    let main = umbra_report::format_ignores_enabled(None, &[], &mut sym, &o);
    assert_eq!(
        main,
        "ThreadSanitizer: main thread finished with ignores enabled\n  \
         One of the following ignores was not ended (in order of probability)\n"
    );
}
