//! Runtime options (TSAN_OPTIONS syntax) and TSan suppression files.

use umbra_report::options::{
    flag_info, flags, help_text, parse_into, FlagType, OptionError, Options, OutputTarget, Support,
};
use umbra_report::suppress::{
    builtin, template_match, SuppressError, SuppressionKind, Suppressions,
};
use umbra_report::Frame;

fn parsed(text: &str) -> Options {
    let mut o = Options::new();
    parse_into(&mut o, "TSAN_OPTIONS", text).unwrap_or_else(|e| panic!("{}: {}", text, e));
    o
}

fn error(text: &str) -> String {
    let mut o = Options::new();
    let e = parse_into(&mut o, "TSAN_OPTIONS", text).expect_err(text);
    assert_eq!(
        o,
        Options::new(),
        "a failed parse must not change the options ({})",
        text
    );
    e.to_string()
}

// ---------------------------------------------------------------------------- options

#[test]
fn defaults() {
    let o = Options::new();
    assert_eq!(o.exitcode, 66);
    assert!(!o.halt_on_error);
    assert!(o.report_bugs);
    assert_eq!(o.log_path, None);
    assert_eq!(o.verbosity, 0);
    assert_eq!(o.suppressions, None);
    assert!(!o.print_suppressions);
    assert!(o.suppress_equal_stacks);
    assert_eq!(o.history_size, 0);
    assert_eq!(o.strip_path_prefix, "");
    assert_eq!(o.atexit_sleep_ms, 0);
    assert_eq!(o.json_path, None);
    assert!(o.report_thread_leaks);
    assert!(o.detect_deadlocks);
    assert!(o.report_signal_unsafe);
    assert!(o.die_after_fork);
    assert_eq!(o.io_sync, 1);
    assert!(!o.force_seq_cst_atomics);
    assert!(!o.ignore_noninstrumented_modules);
    assert!(o.symbolize);
    assert!(!o.print_full_thread_history);
    assert!(!o.second_deadlock_stack);
    assert!(o.report_atomic_races);
    assert!(o.report_destroy_locked);
    assert!(o.report_mutex_bugs);
    assert_eq!(o.flush_memory_ms, 0);
    assert_eq!(o.memory_limit_mb, 0);
    assert_eq!(o.external_symbolizer_path, None);
    assert!(!o.help);
    assert_eq!(Options::default(), o);
    // Empty and separator-only strings change nothing.
    assert_eq!(parsed(""), o);
    assert_eq!(parsed(" :,\t\n"), o);
}

#[test]
fn honoured_flags_parse_and_apply() {
    let o = parsed(
        "exitcode=3 halt_on_error=1 report_bugs=0 log_path=/tmp/log verbosity=2 \
         suppressions=/tmp/supp print_suppressions=true suppress_equal_stacks=no \
         history_size=5 strip_path_prefix=/build/ atexit_sleep_ms=250 json_path=/tmp/r.jsonl help=1",
    );
    assert_eq!(o.exitcode, 3);
    assert!(o.halt_on_error);
    assert!(!o.report_bugs);
    assert_eq!(o.log_path.as_deref(), Some("/tmp/log"));
    assert_eq!(o.verbosity, 2);
    assert_eq!(o.suppressions.as_deref(), Some("/tmp/supp"));
    assert!(o.print_suppressions);
    assert!(!o.suppress_equal_stacks);
    assert_eq!(o.history_size, 5);
    assert_eq!(o.strip_path_prefix, "/build/");
    assert_eq!(o.atexit_sleep_ms, 250);
    assert_eq!(o.json_path.as_deref(), Some("/tmp/r.jsonl"));
    assert!(o.help);
}

#[test]
fn stored_flags_parse_and_apply() {
    let o = parsed(
        "report_thread_leaks=0 detect_deadlocks=0 report_signal_unsafe=0 die_after_fork=0 io_sync=2 \
         force_seq_cst_atomics=1 ignore_noninstrumented_modules=1 symbolize=0 \
         print_full_thread_history=1 second_deadlock_stack=1 report_atomic_races=0 \
         report_destroy_locked=0 report_mutex_bugs=0 flush_memory_ms=10 memory_limit_mb=512 \
         external_symbolizer_path=/usr/bin/llvm-symbolizer",
    );
    assert!(!o.report_thread_leaks);
    assert!(!o.detect_deadlocks);
    assert!(!o.report_signal_unsafe);
    assert!(!o.die_after_fork);
    assert_eq!(o.io_sync, 2);
    assert!(o.force_seq_cst_atomics);
    assert!(o.ignore_noninstrumented_modules);
    assert!(!o.symbolize);
    assert!(o.print_full_thread_history);
    assert!(o.second_deadlock_stack);
    assert!(!o.report_atomic_races);
    assert!(!o.report_destroy_locked);
    assert!(!o.report_mutex_bugs);
    assert_eq!(o.flush_memory_ms, 10);
    assert_eq!(o.memory_limit_mb, 512);
    assert_eq!(
        o.external_symbolizer_path.as_deref(),
        Some("/usr/bin/llvm-symbolizer")
    );
}

/// Every flag of the table that umbra stores can be set to a non-default value and
/// reads back through `Options::get`: the table, the setters and the getter agree.
#[test]
fn every_stored_flag_round_trips() {
    for f in flags() {
        let value = match f.ty {
            FlagType::Bool => {
                if f.default == "1" {
                    "0"
                } else {
                    "1"
                }
            }
            FlagType::Int { max, .. } => {
                if max >= 2 {
                    "2"
                } else {
                    "1"
                }
            }
            FlagType::Str => "/some/path",
            FlagType::SignalMode => "2",
        };
        let o = parsed(&format!("{}={}", f.name, value));
        match f.support {
            Support::Honoured | Support::Stored => {
                assert_eq!(o.get(f.name).as_deref(), Some(value), "flag {}", f.name);
                assert_ne!(o, Options::new(), "flag {} changed nothing", f.name);
            }
            Support::Ignored => {
                assert_eq!(o, Options::new(), "ignored flag {} changed options", f.name)
            }
        }
    }
}

#[test]
fn tsan_flags_umbra_ignores_are_accepted() {
    let o = parsed(
        "enable_annotations=0 abort_on_error=1 handle_segv=0 handle_abort=exclusive \
         stack_trace_format='#%n %f' color=never malloc_context_size=30 print_module_map=1",
    );
    assert_eq!(o, Options::new());
    assert!(flag_info("abort_on_error").is_some());
    assert_eq!(
        error("handle_segv=maybe"),
        "TSAN_OPTIONS: handle_segv expects a boolean or 2/exclusive, got 'maybe'"
    );
}

#[test]
fn booleans() {
    for (v, want) in [
        ("1", true),
        ("true", true),
        ("yes", true),
        ("TRUE", true),
        ("Yes", true),
        ("0", false),
        ("false", false),
        ("no", false),
        ("False", false),
        ("NO", false),
    ] {
        let o = parsed(&format!("halt_on_error={}", v));
        assert_eq!(o.halt_on_error, want, "halt_on_error={}", v);
    }
}

#[test]
fn separators() {
    let want = {
        let mut o = Options::new();
        o.halt_on_error = true;
        o.exitcode = 7;
        o.verbosity = 1;
        o
    };
    for text in [
        "halt_on_error=1:exitcode=7:verbosity=1",
        "halt_on_error=1 exitcode=7 verbosity=1",
        "halt_on_error=1,exitcode=7,verbosity=1",
        "  halt_on_error=1 :, exitcode=7\tverbosity=1\n",
        ":halt_on_error=1,exitcode=7 verbosity=1:",
    ] {
        assert_eq!(parsed(text), want, "{:?}", text);
    }
}

#[test]
fn quoting() {
    let o = parsed("log_path='/tmp/my logs/r:a,c' exitcode=1");
    assert_eq!(o.log_path.as_deref(), Some("/tmp/my logs/r:a,c"));
    assert_eq!(o.exitcode, 1);
    let o = parsed("strip_path_prefix=\"/a b/\":verbosity=3");
    assert_eq!(o.strip_path_prefix, "/a b/");
    assert_eq!(o.verbosity, 3);
    // The other quote character is ordinary inside quotes.
    let o = parsed("log_path=\"it's\"");
    assert_eq!(o.log_path.as_deref(), Some("it's"));
    // Quoted empty value resets a path.
    let mut o = parsed("suppressions=/x");
    parse_into(&mut o, "UMBRA_OPTIONS", "suppressions=''").unwrap();
    assert_eq!(o.suppressions, None);
    // An unquoted value may contain '='.
    assert_eq!(parsed("strip_path_prefix=a=b").strip_path_prefix, "a=b");
    assert_eq!(
        error("log_path='/tmp/x exitcode=1"),
        "TSAN_OPTIONS: unterminated quoted value for 'log_path' (missing closing ')"
    );
}

#[test]
fn override_order() {
    let mut o = Options::new();
    parse_into(
        &mut o,
        "__tsan_default_options",
        "exitcode=10 halt_on_error=1 verbosity=1",
    )
    .unwrap();
    parse_into(&mut o, "TSAN_OPTIONS", "exitcode=20 verbosity=2").unwrap();
    parse_into(&mut o, "UMBRA_OPTIONS", "exitcode=30").unwrap();
    assert_eq!(o.exitcode, 30);
    assert_eq!(o.verbosity, 2);
    assert!(o.halt_on_error);
    // Within one string the last value wins.
    assert_eq!(parsed("exitcode=1 exitcode=2").exitcode, 2);
}

#[test]
fn error_messages() {
    assert_eq!(
        error("halt_on_eror=1"),
        "TSAN_OPTIONS: unknown flag 'halt_on_eror' (did you mean 'halt_on_error'?)"
    );
    assert_eq!(
        error("no_such_thing=1"),
        "TSAN_OPTIONS: unknown flag 'no_such_thing'"
    );
    assert_eq!(
        error("halt_on_error"),
        "TSAN_OPTIONS: expected '=' after 'halt_on_error' (flags are name=value)"
    );
    assert_eq!(
        error("exitcode=1 halt_on_error verbosity=1"),
        "TSAN_OPTIONS: expected '=' after 'halt_on_error' (flags are name=value)"
    );
    assert_eq!(
        error("=1"),
        "TSAN_OPTIONS: expected a flag name before '=' in '=1'"
    );
    assert_eq!(
        error("halt_on_error=maybe"),
        "TSAN_OPTIONS: halt_on_error expects a boolean (0/1/true/false/yes/no), got 'maybe'"
    );
    assert_eq!(
        error("halt_on_error="),
        "TSAN_OPTIONS: halt_on_error expects a boolean (0/1/true/false/yes/no), got ''"
    );
    assert_eq!(
        error("exitcode=abc"),
        "TSAN_OPTIONS: exitcode expects an integer, got 'abc'"
    );
    assert_eq!(
        error("exitcode=256"),
        "TSAN_OPTIONS: exitcode must be between 0 and 255, got '256'"
    );
    assert_eq!(
        error("exitcode=-1"),
        "TSAN_OPTIONS: exitcode must be between 0 and 255, got '-1'"
    );
    assert_eq!(
        error("history_size=8"),
        "TSAN_OPTIONS: history_size must be between 0 and 7, got '8'"
    );
    assert_eq!(
        error("verbosity=99999999999999999999999"),
        "TSAN_OPTIONS: verbosity must be between 0 and 4294967295, got '99999999999999999999999'"
    );
    assert_eq!(
        error("include=/etc/tsan.opts"),
        "TSAN_OPTIONS: 'include' is not supported by umbra: put the flags in the variable itself"
    );
    // Boundaries are accepted.
    assert_eq!(parsed("exitcode=255").exitcode, 255);
    assert_eq!(parsed("exitcode=0").exitcode, 0);
    assert_eq!(parsed("history_size=7").history_size, 7);
    assert_eq!(parsed("verbosity=4294967295").verbosity, u32::MAX);
    // The source is the one given.
    let mut o = Options::new();
    let e: OptionError = parse_into(&mut o, "UMBRA_OPTIONS", "bogus=1").unwrap_err();
    assert_eq!(e.source, "UMBRA_OPTIONS");
    assert_eq!(e.message, "unknown flag 'bogus'");
}

#[test]
fn failed_string_applies_nothing() {
    let mut o = Options::new();
    assert!(parse_into(&mut o, "TSAN_OPTIONS", "exitcode=5 halt_on_error=1 bogus=1").is_err());
    assert_eq!(o, Options::new());
}

#[test]
fn help_lists_every_flag() {
    let h = help_text();
    let o = Options::new();
    for f in flags() {
        let line = h
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{}=", f.name)))
            .unwrap_or_else(|| panic!("help has no line for {}", f.name));
        let status = if f.support == Support::Honoured {
            "[honoured]"
        } else {
            "[accepted, ignored]"
        };
        assert!(line.contains(status), "{}", line);
        if let Some(v) = o.get(f.name) {
            let shown = if v.is_empty() { "\"\"".to_string() } else { v };
            assert!(line.contains(&format!("{}={} ", f.name, shown)), "{}", line);
        }
    }
    // Every field of Options is in the table (and so in the help).
    for name in [
        "exitcode",
        "halt_on_error",
        "report_bugs",
        "log_path",
        "verbosity",
        "suppressions",
        "print_suppressions",
        "suppress_equal_stacks",
        "history_size",
        "strip_path_prefix",
        "atexit_sleep_ms",
        "json_path",
        "profile_path",
        "report_thread_leaks",
        "detect_deadlocks",
        "report_signal_unsafe",
        "die_after_fork",
        "io_sync",
        "force_seq_cst_atomics",
        "ignore_noninstrumented_modules",
        "symbolize",
        "print_full_thread_history",
        "second_deadlock_stack",
        "report_atomic_races",
        "report_destroy_locked",
        "report_mutex_bugs",
        "flush_memory_ms",
        "memory_limit_mb",
        "external_symbolizer_path",
        "help",
    ] {
        assert!(flag_info(name).is_some(), "{} missing from the table", name);
        assert!(
            h.contains(&format!("  {}=", name)),
            "{} missing from help",
            name
        );
    }
    assert!(h.contains("exitcode=66 "));
    assert!(h.contains("atexit_sleep_ms=0 "));
}

#[test]
fn output_targets() {
    let o = Options::new();
    assert_eq!(o.log_target(42), OutputTarget::Stderr);
    assert_eq!(o.json_target(42), None);
    assert_eq!(
        parsed("log_path=stderr").log_target(42),
        OutputTarget::Stderr
    );
    assert_eq!(
        parsed("log_path=stdout").log_target(42),
        OutputTarget::Stdout
    );
    assert_eq!(
        parsed("log_path=/tmp/r").log_target(42),
        OutputTarget::File("/tmp/r.42".into())
    );
    assert_eq!(
        parsed("log_path=/tmp/r.jsonl").log_target(42),
        OutputTarget::File("/tmp/r.jsonl.42".into())
    );
    assert_eq!(
        parsed("json_path=/tmp/r").json_target(42),
        Some(OutputTarget::File("/tmp/r.42".into()))
    );
    assert_eq!(
        parsed("json_path=/tmp/r.jsonl").json_target(42),
        Some(OutputTarget::File("/tmp/r.jsonl".into()))
    );
    assert_eq!(
        parsed("json_path=stdout").json_target(42),
        Some(OutputTarget::Stdout)
    );
    assert_eq!(o.profile_target(42), None);
    assert_eq!(
        parsed("profile_path=/tmp/p").profile_target(42),
        Some("/tmp/p.42".into())
    );
    assert_eq!(
        parsed("profile_path=/tmp/p.pb.gz").profile_target(42),
        Some("/tmp/p.pb.gz".into())
    );
    assert_eq!(
        parsed("profile_path=stdout").profile_target(42),
        Some("stdout.42".into())
    );
}

// ---------------------------------------------------------------------------- suppressions

fn frame(function: Option<&str>, file: Option<&str>, module: &str) -> Frame {
    Frame {
        function: function.map(String::from),
        file: file.map(String::from),
        line: 1,
        column: 0,
        module: module.to_string(),
        module_offset: 0x1000,
    }
}

fn supp(text: &str) -> Suppressions {
    let mut s = Suppressions::new();
    s.parse("test.supp", text).unwrap();
    s
}

#[test]
fn template_match_basics() {
    assert!(template_match("racy.c", "/tmp/x/racy.c"));
    assert!(template_match("^/tmp/*/racy.c$", "/tmp/x/racy.c"));
    assert!(!template_match("^racy.c", "/tmp/x/racy.c"));
    assert!(template_match("", "anything"));
    assert!(!template_match("", ""));
}

#[test]
fn parse_comments_blank_lines_whitespace() {
    let s = supp(
        "# a comment\n\
         \n\
         race:Thread1\n\
         \t  race_top:^top_fn$  \r\n\
         \x20  # indented comment\n\
         thread:leaky_thread\n\
         mutex:m\nsignal:handler\ndeadlock:lock_a\ncalled_from_lib:libfoo.so\n\
         race : spaced \n",
    );
    let got: Vec<_> = s
        .iter()
        .map(|x| (x.kind, x.pattern.as_str(), x.line, x.file.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (SuppressionKind::Race, "Thread1", 3, "test.supp"),
            (SuppressionKind::RaceTop, "^top_fn$", 4, "test.supp"),
            (SuppressionKind::Thread, "leaky_thread", 6, "test.supp"),
            (SuppressionKind::Mutex, "m", 7, "test.supp"),
            (SuppressionKind::Signal, "handler", 8, "test.supp"),
            (SuppressionKind::Deadlock, "lock_a", 9, "test.supp"),
            (SuppressionKind::CalledFromLib, "libfoo.so", 10, "test.supp"),
            (SuppressionKind::Race, "spaced", 11, "test.supp"),
        ]
    );
    assert!(!s.is_empty());
    assert_eq!(s.len(), 8);
    assert!(supp("# only comments\n\n   \n").is_empty());
    assert!(Suppressions::new().is_empty());
}

#[test]
fn unknown_type_error_has_file_and_line() {
    let mut s = Suppressions::new();
    s.parse("first", "race:a\n").unwrap();
    let e: SuppressError = s.parse("my.supp", "race:ok\n# c\nrase:foo\n").unwrap_err();
    assert_eq!(e.file, "my.supp");
    assert_eq!(e.line, 3);
    assert_eq!(
        e.to_string(),
        "umbra: suppressions file 'my.supp', line 3: unknown suppression type 'rase' \
         (supported: race, race_top, thread, mutex, signal, deadlock, called_from_lib)"
    );
    // Nothing of the failed text was added.
    assert_eq!(s.len(), 1);
    let e = s.parse("my.supp", "\n\njust_a_pattern\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "umbra: suppressions file 'my.supp', line 3: expected 'type:pattern', got 'just_a_pattern'"
    );
}

#[test]
fn missing_file_error() {
    let mut s = Suppressions::new();
    let e = s.load_file("/nonexistent/dir/tsan.supp").unwrap_err();
    assert_eq!(e.line, 0);
    assert_eq!(
        e.to_string(),
        "umbra: cannot read suppressions file '/nonexistent/dir/tsan.supp'"
    );
    let e = s.load_file("relative-and-missing.supp").unwrap_err();
    assert_eq!(
        e.to_string(),
        "umbra: cannot read suppressions file 'relative-and-missing.supp'"
    );
    // A directory opens but cannot be read.
    let e = s.load_file("/tmp").unwrap_err();
    assert_eq!(e.to_string(), "umbra: cannot read suppressions file '/tmp'");
    assert!(s.is_empty());
}

#[test]
fn load_file_reads_and_parses() {
    let dir = std::env::temp_dir().join(format!("umbra-supp-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tsan.supp");
    // Bigger than one read() chunk, to exercise the loop.
    let mut text = String::from("# generated\n");
    for i in 0..500 {
        text.push_str(&format!("race:^generated_function_number_{}$\n", i));
    }
    text.push_str("thread:last_one");
    std::fs::write(&path, &text).unwrap();
    let mut s = Suppressions::new();
    s.load_file(path.to_str().unwrap()).unwrap();
    assert_eq!(s.len(), 501);
    let last = s.iter().last().unwrap();
    assert_eq!(
        (last.kind, last.pattern.as_str(), last.line),
        (SuppressionKind::Thread, "last_one", 502)
    );
    assert_eq!(last.file, path.to_str().unwrap());

    std::fs::write(&path, "race:ok\nbogus:x\n").unwrap();
    let e = Suppressions::new()
        .load_file(path.to_str().unwrap())
        .unwrap_err();
    assert_eq!(e.line, 2);
    assert_eq!(e.file, path.to_str().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn match_race_function_file_module_global() {
    let stack = [
        frame(
            Some("std::vector<int>::push_back(int const&)"),
            Some("/usr/include/c++/vector"),
            "/usr/lib/libstdc++.so.6",
        ),
        frame(Some("Thread1(void*)"), Some("/tmp/x/racy.c"), "/tmp/x/racy"),
        frame(None, None, ""),
    ];
    let stacks: [&[Frame]; 1] = [&stack];

    // Function name (substring and anchored).
    assert_eq!(
        supp("race:Thread1")
            .match_race(&stacks, None)
            .unwrap()
            .pattern,
        "Thread1"
    );
    assert!(supp("race:^Thread1(void*)$")
        .match_race(&stacks, None)
        .is_some());
    assert!(supp("race:^Thread1$").match_race(&stacks, None).is_none());
    // File path.
    assert_eq!(
        supp("race:racy.c")
            .match_race(&stacks, None)
            .unwrap()
            .pattern,
        "racy.c"
    );
    assert!(supp("race:^/tmp/x/*.c$")
        .match_race(&stacks, None)
        .is_some());
    // Module path.
    assert!(supp("race:libstdc++").match_race(&stacks, None).is_some());
    assert!(supp("race:^/tmp/x/racy$")
        .match_race(&stacks, None)
        .is_some());
    // Global name, only when given.
    let s = supp("race:^g_counter$");
    assert!(s.match_race(&stacks, None).is_none());
    assert_eq!(s.match_race(&stacks, Some("g_counter")).unwrap().line, 1);
    assert!(s.match_race(&stacks, Some("g_counter2")).is_none());
    // Non-race kinds do not suppress races.
    assert!(supp("thread:Thread1\nmutex:racy.c\ndeadlock:*")
        .match_race(&stacks, Some("x"))
        .is_none());
    // Nothing matches.
    assert!(supp("race:other_function")
        .match_race(&stacks, Some("g"))
        .is_none());
    // The second stack of a report counts too.
    let other = [frame(Some("main"), Some("/tmp/x/main.c"), "/tmp/x/racy")];
    let two: [&[Frame]; 2] = [&other, &stack];
    assert!(supp("race:Thread1").match_race(&two, None).is_some());
    // No stacks at all.
    assert!(supp("race:*").match_race(&[], None).is_none());
    assert!(supp("race:*").match_race(&[], Some("g")).is_some());
}

#[test]
fn first_matching_suppression_wins_in_tsan_order() {
    let stack = [
        frame(Some("inner"), Some("/src/a.c"), "/bin/app"),
        frame(Some("outer"), Some("/src/b.c"), "/bin/app"),
    ];
    let stacks: [&[Frame]; 1] = [&stack];
    // Frame order first: the top frame's match wins even though 'outer' is listed first.
    let s = supp("race:outer\nrace:inner");
    assert_eq!(s.match_race(&stacks, None).unwrap().pattern, "inner");
    // Within a frame: function, then file, then module.
    let s = supp("race:app\nrace:a.c\nrace:inner");
    assert_eq!(s.match_race(&stacks, None).unwrap().pattern, "inner");
    let s = supp("race:app\nrace:a.c");
    assert_eq!(s.match_race(&stacks, None).unwrap().pattern, "a.c");
    // For one text, the earliest suppression in load order.
    let s = supp("race:inn\nrace:inner");
    assert_eq!(s.match_race(&stacks, None).unwrap().pattern, "inn");
}

#[test]
fn race_top_only_top_frame() {
    let stack = [
        frame(Some("top_fn"), Some("/src/top.c"), "/bin/app"),
        frame(Some("caller_fn"), Some("/src/caller.c"), "/bin/app"),
    ];
    let stacks: [&[Frame]; 1] = [&stack];
    assert!(supp("race_top:top_fn").match_race(&stacks, None).is_some());
    assert!(supp("race_top:top.c").match_race(&stacks, None).is_some());
    assert!(supp("race_top:caller_fn")
        .match_race(&stacks, None)
        .is_none());
    assert!(supp("race_top:caller.c")
        .match_race(&stacks, None)
        .is_none());
    assert!(supp("race:caller_fn").match_race(&stacks, None).is_some());
    // race_top never matches globals.
    assert!(supp("race_top:g").match_race(&stacks, Some("g")).is_none());
    // Second stack's top frame.
    let other = [
        frame(Some("other_top"), None, "/bin/app"),
        frame(Some("deep"), None, ""),
    ];
    let two: [&[Frame]; 2] = [&stack, &other];
    assert!(supp("race_top:other_top").match_race(&two, None).is_some());
    assert!(supp("race_top:deep").match_race(&two, None).is_none());
    // match_kind(RaceTop) also looks only at the top.
    assert!(supp("race_top:top_fn")
        .match_kind(SuppressionKind::RaceTop, &stacks)
        .is_some());
    assert!(supp("race_top:caller_fn")
        .match_kind(SuppressionKind::RaceTop, &stacks)
        .is_none());
    assert!(supp("race:top_fn")
        .match_kind(SuppressionKind::RaceTop, &stacks)
        .is_none());
}

#[test]
fn match_kind_other_reports() {
    let creation = [
        frame(Some("pthread_create"), None, "/bin/app"),
        frame(Some("start_workers"), Some("/src/pool.c"), "/bin/app"),
    ];
    let stacks: [&[Frame]; 1] = [&creation];
    let s = supp("thread:start_workers\nmutex:pool.c\nsignal:^pthread_create$\ndeadlock:app");
    assert_eq!(
        s.match_kind(SuppressionKind::Thread, &stacks)
            .unwrap()
            .pattern,
        "start_workers"
    );
    assert_eq!(
        s.match_kind(SuppressionKind::Mutex, &stacks)
            .unwrap()
            .pattern,
        "pool.c"
    );
    assert_eq!(
        s.match_kind(SuppressionKind::Signal, &stacks)
            .unwrap()
            .pattern,
        "^pthread_create$"
    );
    assert_eq!(
        s.match_kind(SuppressionKind::Deadlock, &stacks)
            .unwrap()
            .pattern,
        "app"
    );
    assert!(s.match_kind(SuppressionKind::Race, &stacks).is_none());
    assert!(supp("thread:nothing")
        .match_kind(SuppressionKind::Thread, &stacks)
        .is_none());
    // called_from_lib against a module path.
    let s = supp("called_from_lib:libfoo.so");
    assert_eq!(
        s.match_lib("/usr/lib/libfoo.so.1").unwrap().pattern,
        "libfoo.so"
    );
    assert!(s.match_lib("/usr/lib/libbar.so").is_none());
}

#[test]
fn builtin_suppressions() {
    let mut s = Suppressions::new();
    s.parse("<builtin>", builtin()).unwrap();
    assert_eq!(s.len(), 3);
    let rep = [frame(Some("_M_rep"), None, "/usr/lib/libstdc++.so.6")];
    assert!(s.match_race(&[&rep], None).is_some());
    let not_rep = [frame(Some("std::string::_M_rep() const"), None, "")];
    assert!(s.match_race(&[&not_rep], None).is_none());
    let sp = [frame(
        Some("std::_Sp_counted_ptr_inplace<std::thread::_Impl<std::_Bind_simple<void (*())()> >, std::allocator<int>, (__gnu_cxx::_Lock_policy)2>::_M_dispose()"),
        None,
        "",
    )];
    assert!(s.match_race(&[&sp], None).is_some());
}

#[test]
fn hit_counting_and_report() {
    let s = supp("race:Thread1\nrace:never\nthread:leaker\nrace_top:top");
    assert_eq!(s.hits_report(123), "", "nothing matched yet");
    let a = [frame(Some("Thread1(void*)"), None, "")];
    let b = [frame(Some("leaker"), None, "")];
    let c = [frame(Some("top"), None, "")];
    for _ in 0..3 {
        assert!(s.match_race(&[&a], None).is_some());
    }
    assert!(s.match_kind(SuppressionKind::Thread, &[&b]).is_some());
    assert!(s.match_race(&[&c], None).is_some());
    // A failed match counts nothing.
    assert!(s.match_race(&[&b], None).is_none());
    let counts: Vec<u64> = s.iter().map(|x| x.hit_count()).collect();
    assert_eq!(counts, [3, 0, 1, 1]);
    assert_eq!(
        s.hits_report(4242),
        "ThreadSanitizer: Matched 5 suppressions (pid=4242):\n\
         3 race:Thread1\n\
         1 thread:leaker\n\
         1 race_top:top\n"
    );
}

#[test]
fn matching_is_shareable_across_threads() {
    let s = supp("race:worker");
    let st = [frame(Some("worker"), None, "")];
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..1000 {
                    assert!(s.match_race(&[&st], None).is_some());
                }
            });
        }
    });
    assert_eq!(s.iter().next().unwrap().hit_count(), 4000);
}

#[test]
fn relative_path_falls_back_to_executable_directory() {
    // Like TSan's FindFile: a relative path that does not exist from the current
    // directory is looked up next to the executable (here target/debug/deps/).
    let exe_dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let name = format!("umbra-rel-{}.supp", std::process::id());
    assert!(!std::path::Path::new(&name).exists());
    let full = exe_dir.join(&name);
    std::fs::write(&full, "race:next_to_exe\n").unwrap();
    let mut s = Suppressions::new();
    let r = s.load_file(&name);
    std::fs::remove_file(&full).unwrap();
    r.unwrap();
    let only = s.iter().next().unwrap();
    assert_eq!(only.pattern, "next_to_exe");
    assert_eq!(only.file, full.to_str().unwrap());
}
