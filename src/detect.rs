//! Detecting programs that carry their own, statically linked, stock ThreadSanitizer
//! runtime, which `LD_PRELOAD=libumbra.so` cannot replace: the instrumentation's
//! `__tsan_*` calls bind inside the executable, so the program would silently run on
//! the stock runtime. That is clang's default (`-fsanitize=thread` links
//! `libclang_rt.tsan.a` into the executable and runs `__tsan_init` from
//! `.preinit_array`), gcc's `-static-libtsan`, and Rust programs linked with rustc's
//! own runtime (no `-Zexternal-clangrt`).
//!
//! The sign: the executable itself defines `__tsan_init` together with the stock
//! runtime's interceptor wrappers (`__interceptor_*`, `___interceptor_*`) or its
//! internals (`__tsan::` symbols). A Rust program linked with `libumbra.a` defines
//! `__tsan_init` too, but none of those. The compiler comes from `.comment`.
//!
//! Reads only the ELF section headers, the symbol tables and `.comment`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// If the program `prog` (a path, or a name looked up in PATH) links a stock TSan
/// runtime statically, the message telling the user what to change; `None` if it
/// does not (or cannot be read: then running it reports the problem).
pub fn static_stock_runtime(prog: &str) -> Option<String> {
    let path = resolve(prog)?;
    let mut elf = Elf::read(&path).ok()?;
    let mut tsan_init = false;
    let mut stock = false;
    for name in elf.defined_symbols() {
        tsan_init |= name == "__tsan_init";
        stock |= name.starts_with("__interceptor_")
            || name.starts_with("___interceptor_")
            || name.starts_with("_ZN6__tsan");
    }
    if !(tsan_init && stock) {
        return None;
    }
    let comment = elf.comment();
    let shown = path.display();
    Some(if comment.contains("rustc version") {
        format!(
            "umbra: {shown} links rustc's own ThreadSanitizer runtime, so it would run on that \
             runtime, not on umbra. Rebuild it with `cargo umbra build` (or add \
             -Zexternal-clangrt -Clink-arg=DIR/libumbra.a to -Zsanitizer=thread), then run it \
             directly."
        )
    } else if comment.contains("clang version") {
        format!(
            "umbra: {shown} links clang's ThreadSanitizer runtime statically (clang's default), \
             so it would run on that runtime, not on umbra. Rebuild it with -shared-libsan added \
             (clang -fsanitize=thread -shared-libsan ...); the executable then needs \
             libclang_rt.tsan-x86_64.so at run time (-Wl,-rpath,$(dirname $(clang \
             -print-file-name=libclang_rt.tsan-x86_64.so)) or LD_LIBRARY_PATH)."
        )
    } else {
        format!(
            "umbra: {shown} links gcc's libtsan statically (-static-libtsan), so it would run on \
             that runtime, not on umbra. Rebuild it without -static-libtsan."
        )
    })
}

/// `prog` itself if it names a path, else the first executable of that name in PATH.
fn resolve(prog: &str) -> Option<PathBuf> {
    if prog.contains('/') {
        return Some(PathBuf::from(prog));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

struct Section {
    name: u32,
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
}

/// The parts of a little-endian ELF64 file this module looks at.
struct Elf {
    file: File,
    sections: Vec<Section>,
    names: Vec<u8>,
}

const SHT_SYMTAB: u32 = 2;
const SHT_DYNSYM: u32 = 11;
/// Symbol tables larger than this are not read (no real program comes close).
const MAX_TABLE: u64 = 1 << 30;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

impl Elf {
    fn read(path: &Path) -> Result<Elf, String> {
        let mut file = File::open(path).map_err(|e| e.to_string())?;
        let mut header = [0u8; 64];
        file.read_exact(&mut header).map_err(|e| e.to_string())?;
        // ELF magic, 64-bit, little-endian.
        if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
            return Err("not a little-endian ELF64 file".into());
        }
        let (shoff, shentsize, shnum, shstrndx) = (
            u64_at(&header, 0x28),
            u16_at(&header, 0x3a) as usize,
            u16_at(&header, 0x3c) as usize,
            u16_at(&header, 0x3e) as usize,
        );
        if shentsize < 64 || shnum == 0 {
            return Err("no section headers".into());
        }
        let mut table = vec![0u8; shentsize * shnum];
        file.seek(SeekFrom::Start(shoff))
            .map_err(|e| e.to_string())?;
        file.read_exact(&mut table).map_err(|e| e.to_string())?;
        let sections: Vec<Section> = table
            .chunks_exact(shentsize)
            .map(|s| Section {
                name: u32_at(s, 0),
                kind: u32_at(s, 4),
                offset: u64_at(s, 0x18),
                size: u64_at(s, 0x20),
                link: u32_at(s, 0x28),
            })
            .collect();
        let mut elf = Elf {
            file,
            sections,
            names: Vec::new(),
        };
        if shstrndx < elf.sections.len() {
            elf.names = elf.contents(shstrndx).unwrap_or_default();
        }
        Ok(elf)
    }

    fn contents(&mut self, index: usize) -> Result<Vec<u8>, String> {
        let s = self.sections.get(index).ok_or("bad section index")?;
        if s.size > MAX_TABLE {
            return Err("section too large".into());
        }
        let mut buf = vec![0u8; s.size as usize];
        self.file
            .seek(SeekFrom::Start(s.offset))
            .map_err(|e| e.to_string())?;
        self.file.read_exact(&mut buf).map_err(|e| e.to_string())?;
        Ok(buf)
    }

    fn section_name(&self, s: &Section) -> &[u8] {
        let start = (s.name as usize).min(self.names.len());
        let rest = &self.names[start..];
        &rest[..rest.iter().position(|&c| c == 0).unwrap_or(rest.len())]
    }

    /// Names of the symbols defined (section index not UNDEF) in `.symtab` and `.dynsym`.
    fn defined_symbols(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..self.sections.len() {
            let (kind, link) = (self.sections[i].kind, self.sections[i].link as usize);
            if kind != SHT_SYMTAB && kind != SHT_DYNSYM {
                continue;
            }
            let (Ok(symbols), Ok(strings)) = (self.contents(i), self.contents(link)) else {
                continue;
            };
            for sym in symbols.as_chunks::<24>().0 {
                if u16_at(sym, 6) == 0 {
                    continue;
                }
                let start = (u32_at(sym, 0) as usize).min(strings.len());
                let rest = &strings[start..];
                let name = &rest[..rest.iter().position(|&c| c == 0).unwrap_or(rest.len())];
                out.push(String::from_utf8_lossy(name).into_owned());
            }
        }
        out
    }

    /// The `.comment` section (compiler identification strings), or "".
    fn comment(&mut self) -> String {
        let index =
            (0..self.sections.len()).find(|&i| self.section_name(&self.sections[i]) == b".comment");
        index
            .and_then(|i| self.contents(i).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', "\n"))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Compiles a one-line racy-free program with `compiler ARGS`, into a temp dir.
    fn compile(compiler: &str, args: &[&str], name: &str) -> Option<PathBuf> {
        let dir = std::env::temp_dir().join(format!("umbra-detect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let src = dir.join("p.c");
        std::fs::write(&src, "int x; int main(void) { x = 1; return 0; }\n").ok()?;
        let out = dir.join(name);
        let ok = Command::new(compiler)
            .args(args)
            .arg(&src)
            .arg("-o")
            .arg(&out)
            .status()
            .ok()?
            .success();
        ok.then_some(out)
    }

    #[test]
    fn gcc_shared_libtsan_is_fine_static_is_detected() {
        let shared =
            compile("gcc", &["-fsanitize=thread"], "shared").expect("gcc -fsanitize=thread");
        assert_eq!(static_stock_runtime(shared.to_str().unwrap()), None);
        let stat = compile("gcc", &["-fsanitize=thread", "-static-libtsan"], "static")
            .expect("gcc -static-libtsan");
        let msg = static_stock_runtime(stat.to_str().unwrap()).expect("detected");
        assert!(msg.contains("without -static-libtsan"), "{msg}");
    }

    #[test]
    fn clang_default_build_is_detected() {
        let Some(stat) = compile("clang-16", &["-fsanitize=thread"], "clang-static") else {
            println!("clang-16 with libclang-rt-16-dev not installed: skipped");
            return;
        };
        let msg = static_stock_runtime(stat.to_str().unwrap()).expect("detected");
        assert!(msg.contains("-shared-libsan"), "{msg}");
        let shared = compile(
            "clang-16",
            &["-fsanitize=thread", "-shared-libsan"],
            "clang-shared",
        )
        .expect("clang -shared-libsan");
        assert_eq!(static_stock_runtime(shared.to_str().unwrap()), None);
    }

    #[test]
    fn non_elf_and_missing_files_are_not_detected() {
        assert_eq!(static_stock_runtime("/nonexistent/prog"), None);
        assert_eq!(static_stock_runtime("Cargo.toml"), None);
    }
}
