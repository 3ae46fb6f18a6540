//! Generates the pass-through trampolines: one exported function per libc name
//! that stock libtsan intercepts and umbra does not, jumping to the system
//! library's definition (resolved on first call). Exporting them from
//! libumbra.so keeps a gcc-instrumented program from binding to libtsan's
//! interceptors, which would wake the stock runtime. Also generates the
//! `__sanitizer_syscall_pre/post_impl_*` hooks from `syscall_hooks_names.txt` and
//! the effects `syscall_hooks.txt` gives them (see `src/syscall_hooks.rs`).
use std::fmt::Write;

fn main() {
    syscall_hooks();
    let list = std::fs::read_to_string("src/passthrough.txt").expect("src/passthrough.txt");
    println!("cargo:rerun-if-changed=src/passthrough.txt");
    let names: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    // Each trampoline is a single indirect jump through its slot: it writes no
    // register (not even %rax, whose %al is the vector-register count of a
    // variadic call), no flag and no stack, so the real function starts with
    // exactly the state the caller set. A slot starts out pointing at its
    // trampoline's resolver stub, which loads the index into %r11 (the ABI's
    // scratch register: neither an argument nor %rax) and enters the slow path in
    // passthrough.rs; that saves everything else, resolves, fills the slot and
    // jumps to the real function.
    let mut asm = String::new();
    for (i, n) in names.iter().enumerate() {
        writeln!(
            asm,
            ".globl umbra_pass_{n}
.type umbra_pass_{n},@function
umbra_pass_{n}:
  jmp qword ptr [rip + umbra_passthrough_slots + {off}]
.size umbra_pass_{n}, . - umbra_pass_{n}
.Lumbra_pass_resolve_{i}:
  mov r11d, {i}
  jmp umbra_passthrough_slow",
            off = i * 8
        )
        .unwrap();
    }
    writeln!(
        asm,
        ".pushsection .data.umbra_passthrough_slots,\"aw\",@progbits"
    )
    .unwrap();
    writeln!(
        asm,
        ".p2align 3\n.globl umbra_passthrough_slots\numbra_passthrough_slots:"
    )
    .unwrap();
    for i in 0..names.len() {
        writeln!(asm, "  .quad .Lumbra_pass_resolve_{i}").unwrap();
    }
    writeln!(
        asm,
        ".size umbra_passthrough_slots, . - umbra_passthrough_slots\n.popsection"
    )
    .unwrap();
    let mut rs = String::new();
    writeln!(rs, "pub const COUNT: usize = {};", names.len()).unwrap();
    writeln!(rs, "pub static NAMES: [&str; COUNT] = [").unwrap();
    for n in &names {
        writeln!(rs, "    \"{n}\\0\",").unwrap();
    }
    writeln!(rs, "];").unwrap();
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/passthrough.s"), asm).unwrap();
    std::fs::write(format!("{out}/passthrough_names.rs"), rs).unwrap();
}

/// One effect token of `syscall_hooks.txt` as the `Effect` expression it stands for.
fn effect(token: &str) -> String {
    let call = |name: &str| {
        token
            .strip_prefix(name)
            .and_then(|t| t.strip_prefix('('))
            .and_then(|t| t.strip_suffix(')'))
            .map(|t| {
                t.split(',')
                    .map(|a| a.trim().to_string())
                    .collect::<Vec<_>>()
            })
    };
    if token == "forkpre" {
        return "Effect::ForkPre".into();
    }
    if token == "forkpost" {
        return "Effect::ForkPost".into();
    }
    for (name, variant) in [
        ("fdclose", "FdClose"),
        ("fdacquire", "FdAcquire"),
        ("perfattr", "PerfAttr"),
        ("ioevents", "IoEvents"),
        ("iocancel", "IoCancel"),
    ] {
        if let Some(a) = call(name) {
            return format!("Effect::{variant}({})", a[0]);
        }
    }
    if let Some(a) = call("capdata") {
        return format!("Effect::CapData({}, {})", a[0], a[1]);
    }
    if let Some(a) = call("iosubmit") {
        return format!("Effect::IoSubmit({}, {})", a[0], a[1]);
    }
    let (write, rest) = match token.as_bytes()[0] {
        b'r' => (false, &token[1..]),
        b'w' => (true, &token[1..]),
        _ => panic!("syscall_hooks.txt: unknown effect {token}"),
    };
    let (place, len) = rest
        .split_once(':')
        .unwrap_or_else(|| panic!("syscall_hooks.txt: no length in {token}"));
    let (arg, off) = place.split_once('+').unwrap_or((place, "0"));
    let len = if len == "str" {
        "Len::CStr".to_string()
    } else if let Some(a) = len.strip_prefix('a') {
        match a.split_once('*') {
            Some((k, n)) => format!("Len::ArgTimes({k}, {n})"),
            None => format!("Len::ArgTimes({a}, 1)"),
        }
    } else {
        format!("Len::Bytes({len})")
    };
    let kind = if write { "Write" } else { "Read" };
    format!("Effect::Memory {{ kind: Access::{kind}, arg: {arg}, offset: {off}, len: {len} }}")
}

fn syscall_hooks() {
    println!("cargo:rerun-if-changed=src/syscall_hooks.txt");
    println!("cargo:rerun-if-changed=src/syscall_hooks_names.txt");
    let names = std::fs::read_to_string("src/syscall_hooks_names.txt").expect("names");
    let spec = std::fs::read_to_string("src/syscall_hooks.txt").expect("spec");
    let mut effects: std::collections::BTreeMap<&str, (Vec<String>, Vec<String>)> =
        Default::default();
    for line in spec.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, rest) = line.split_once(' ').expect("NAME pre: ... post: ...");
        let (pre, post) = match rest.split_once("post:") {
            Some((pre, post)) => (pre, post),
            None => (rest, ""),
        };
        let pre = pre.trim().strip_prefix("pre:").unwrap_or(pre.trim());
        let e = effects.entry(name).or_default();
        e.0 = pre.split_whitespace().map(effect).collect();
        e.1 = post.split_whitespace().map(effect).collect();
    }
    let mut rs = String::new();
    for name in names.lines().map(str::trim) {
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        let (pre, post) = effects.remove(name).unwrap_or_default();
        writeln!(
            rs,
            "#[no_mangle]
pub unsafe extern \"C\" fn __sanitizer_syscall_pre_impl_{name}(a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) {{
    // SAFETY: the program passes the arguments of the syscall it is about to make.
    unsafe {{ run(&[{}], None, [a0, a1, a2, a3, a4, a5], caller_pc()) }}
}}
#[no_mangle]
pub unsafe extern \"C\" fn __sanitizer_syscall_post_impl_{name}(res: isize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize) {{
    // SAFETY: the program passes the result and arguments of the syscall it made.
    unsafe {{ run(&[{}], Some(res), [a0, a1, a2, a3, a4, 0], caller_pc()) }}
}}",
            pre.join(", "),
            post.join(", ")
        )
        .unwrap();
    }
    assert!(
        effects.is_empty(),
        "syscall_hooks.txt names unknown syscalls: {:?}",
        effects.keys()
    );
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/syscall_hooks.rs"), rs).unwrap();
}
