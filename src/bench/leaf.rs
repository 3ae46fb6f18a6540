//! The disassembly check behind the README's promise that the hot entry points
//! are leaf code: no push, pop or call on their own instructions (a `jmp` to
//! another symbol is a tail call and fine).
//!
//! Self-contained (std only) so that tests/leaf.rs can include this file directly.

use std::path::Path;
use std::process::Command;

/// The entry points that must compile to leaf code.
pub const LEAF_ENTRY_POINTS: [&str; 10] = [
    "__tsan_read1",
    "__tsan_read2",
    "__tsan_read4",
    "__tsan_read8",
    "__tsan_write1",
    "__tsan_write2",
    "__tsan_write4",
    "__tsan_write8",
    "__tsan_func_entry",
    "__tsan_func_exit",
];

/// Mnemonics (AT&T, with or without a size suffix) that make a function non-leaf:
/// a frame push/pop or a call. `popcnt` and friends are not among them.
const FORBIDDEN: [&str; 12] = [
    "push", "pushq", "pushw", "pushf", "pushfq", "pop", "popq", "popw", "popf", "popfq", "call",
    "callq",
];

/// Disassembles `so` (objdump -d --no-show-raw-insn) and returns every push, pop
/// or call instruction found in the bodies of [`LEAF_ENTRY_POINTS`], one string
/// each (`"__tsan_read8+0x12: push %rbx"`). An entry point missing from the
/// symbol table is an error.
pub fn check_leaf_entry_points(so: &Path) -> Result<Vec<String>, String> {
    let syms = symbol_ranges(so)?;
    let lo = syms.iter().map(|s| s.1).min().unwrap_or(0);
    let hi = syms.iter().map(|s| s.1 + s.2).max().unwrap_or(0);
    let out = Command::new("objdump")
        .args(["-d", "--no-show-raw-insn", "-w"])
        .arg(format!("--start-address={lo:#x}"))
        .arg(format!("--stop-address={hi:#x}"))
        .arg(so)
        .output()
        .map_err(|e| format!("cannot run objdump: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "objdump -d {} failed: {}",
            so.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = Vec::new();
    let mut seen = vec![0usize; syms.len()];
    for line in text.lines() {
        // Instruction lines: "   43a20:\tmov    %edi,%ecx"
        let Some((addr, rest)) = line.split_once(":\t") else {
            continue;
        };
        let Ok(addr) = u64::from_str_radix(addr.trim(), 16) else {
            continue;
        };
        let insn = rest.trim();
        let mnemonic = insn.split_whitespace().next().unwrap_or("");
        for (i, (name, start, size)) in syms.iter().enumerate() {
            if addr >= *start && addr < start + size {
                seen[i] += 1;
                if FORBIDDEN.contains(&mnemonic) {
                    let insn = insn.split_whitespace().collect::<Vec<_>>().join(" ");
                    found.push(format!("{name}+{:#x}: {insn}", addr - start));
                }
            }
        }
    }
    for (i, (name, _, _)) in syms.iter().enumerate() {
        if seen[i] == 0 {
            return Err(format!(
                "objdump showed no instructions of {name} in {}",
                so.display()
            ));
        }
    }
    Ok(found)
}

/// (name, address, size) of each entry point, from the ELF symbol tables.
fn symbol_ranges(so: &Path) -> Result<Vec<(String, u64, u64)>, String> {
    let out = Command::new("readelf")
        .args(["-Ws", "--wide"])
        .arg(so)
        .output()
        .map_err(|e| format!("cannot run readelf: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "readelf -Ws {} failed: {}",
            so.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut syms = Vec::new();
    for name in LEAF_ENTRY_POINTS {
        // "   562: 0000000000043a20   126 FUNC    GLOBAL DEFAULT    8 __tsan_read8"
        let hit = text.lines().find_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            (c.len() >= 8 && c[7] == name && c[3] == "FUNC" && c[6] != "UND").then(|| {
                let addr = u64::from_str_radix(c[1], 16).ok()?;
                let size = if let Some(h) = c[2].strip_prefix("0x") {
                    u64::from_str_radix(h, 16).ok()?
                } else {
                    c[2].parse().ok()?
                };
                Some((addr, size))
            })?
        });
        match hit {
            Some((addr, size)) if size > 0 => syms.push((name.to_string(), addr, size)),
            Some(_) => return Err(format!("{name} has size 0 in {}", so.display())),
            None => return Err(format!("{name} is not defined in {}", so.display())),
        }
    }
    Ok(syms)
}
