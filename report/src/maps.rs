//! The list of loaded ELF modules, read from `/proc/self/maps`.
//!
//! The runtime sits underneath libc, so `dl_iterate_phdr` is off limits: instead the
//! kernel's own view of the address space is read with raw syscalls and grouped by
//! file. For every file whose first mapping starts with an ELF header, the program
//! headers are read straight from that (readable) mapping, which gives the module's
//! load bias and its full extent, including the `.bss` tail that lives in an anonymous
//! mapping after the file-backed ones.

use alloc::string::String;
use alloc::vec::Vec;

/// One mapped ELF file of the current process.
#[derive(Clone, Debug)]
pub struct ModuleRange {
    /// Full path as the kernel reports it (without a ` (deleted)` suffix).
    pub path: String,
    /// Load bias: runtime address = ELF virtual address + bias.
    pub bias: u64,
    /// Runtime address range `[lo, hi)` covered by the module's `PT_LOAD` segments.
    pub lo: u64,
    pub hi: u64,
}

impl ModuleRange {
    pub fn contains(&self, addr: u64) -> bool {
        self.lo <= addr && addr < self.hi
    }
}

/// One line of `/proc/self/maps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapLine<'a> {
    pub start: u64,
    pub end: u64,
    pub readable: bool,
    pub offset: u64,
    pub inode: u64,
    pub path: &'a [u8],
}

/// Reads all of `/proc/self/maps` (proc files must be read until EOF in pieces),
/// through `/proc/thread-self`: once the main thread has called `pthread_exit`,
/// `/proc/self/maps` (the thread group leader's) reads as empty.
pub fn read_proc_maps() -> Option<Vec<u8>> {
    let fd = umbra_sys::open_readonly(b"/proc/thread-self/maps")
        .or_else(|| umbra_sys::open_readonly(b"/proc/self/maps"))?;
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = umbra_sys::read(fd, &mut chunk);
        if n == -4 {
            continue; // EINTR
        }
        if n <= 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n as usize]);
    }
    umbra_sys::close(fd);
    Some(out)
}

fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let mut v = 0u64;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | d as u64;
    }
    Some(v)
}

fn parse_dec(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v = 0u64;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Splits off the next space-delimited field, skipping leading spaces.
fn field<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let s = *rest;
    let start = s.iter().position(|&c| c != b' ').unwrap_or(s.len());
    let s = &s[start..];
    let end = s.iter().position(|&c| c == b' ').unwrap_or(s.len());
    *rest = &s[end..];
    &s[..end]
}

/// Parses one line: `start-end perms offset dev inode [path]`. The path is the rest
/// of the line after the inode, leading spaces removed (it may contain spaces).
pub fn parse_map_line(line: &[u8]) -> Option<MapLine<'_>> {
    let mut rest = line;
    let range = field(&mut rest);
    let dash = range.iter().position(|&c| c == b'-')?;
    let start = parse_hex(&range[..dash])?;
    let end = parse_hex(&range[dash + 1..])?;
    let perms = field(&mut rest);
    let offset = parse_hex(field(&mut rest))?;
    let _dev = field(&mut rest);
    let inode = parse_dec(field(&mut rest))?;
    let p = rest.iter().position(|&c| c != b' ').unwrap_or(rest.len());
    let mut path = &rest[p..];
    while let [head @ .., b' ' | b'\n' | b'\r'] = path {
        path = head;
    }
    Some(MapLine {
        start,
        end,
        readable: perms.first() == Some(&b'r'),
        offset,
        inode,
        path,
    })
}

/// `PT_LOAD` information from an ELF program header table.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub offset: u64,
    pub vaddr: u64,
    pub memsz: u64,
}

fn rd_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn rd_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn rd_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The `PT_LOAD` segments of a little-endian ELF64 image whose first bytes are `head`
/// (the file start or its first mapping). Returns `None` if `head` is not such an
/// image or the program headers lie outside `head`.
pub fn elf_loads(head: &[u8]) -> Option<Vec<Load>> {
    // e_ident: magic, ELFCLASS64 (2), ELFDATA2LSB (1).
    if head.len() < 64 || &head[..4] != b"\x7fELF" || head[4] != 2 || head[5] != 1 {
        return None;
    }
    let phoff = rd_u64(head, 0x20)? as usize;
    let phentsize = rd_u16(head, 0x36)? as usize;
    let phnum = rd_u16(head, 0x38)? as usize;
    if phentsize < 56 {
        return None;
    }
    let mut loads = Vec::new();
    for i in 0..phnum {
        let at = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if rd_u32(head, at)? == 1 {
            // PT_LOAD
            loads.push(Load {
                offset: rd_u64(head, at + 8)?,
                vaddr: rd_u64(head, at + 16)?,
                memsz: rd_u64(head, at + 40)?,
            });
        }
    }
    if loads.is_empty() {
        None
    } else {
        Some(loads)
    }
}

const PAGE_MASK: u64 = !0xfff;

/// Load bias and extent of a module given its `PT_LOAD`s and the runtime start of
/// the mapping of file offset `map_offset`.
pub fn bias_and_extent(loads: &[Load], map_start: u64, map_offset: u64) -> Option<(u64, u64, u64)> {
    let seg = loads.iter().find(|l| l.offset & PAGE_MASK == map_offset)?;
    let bias = map_start.wrapping_sub(seg.vaddr & PAGE_MASK);
    let lo = loads.iter().map(|l| l.vaddr & PAGE_MASK).min()?;
    let hi = loads
        .iter()
        .map(|l| l.vaddr.saturating_add(l.memsz))
        .max()?;
    Some((bias, lo.wrapping_add(bias), hi.wrapping_add(bias)))
}

/// Groups the lines of a maps file into ELF modules. `read_head(start, len)` must
/// return the bytes of a readable mapping (the first mapping of a file), or `None`;
/// `read_file_head(path)` is the fallback that reads the program headers from the
/// file itself when the first mapping is not readable.
pub fn modules_from_maps(
    maps: &[u8],
    read_head: &mut dyn FnMut(u64, u64) -> Option<Vec<Load>>,
    read_file_head: &mut dyn FnMut(&[u8]) -> Option<Vec<Load>>,
) -> Vec<ModuleRange> {
    let mut out: Vec<ModuleRange> = Vec::new();
    let mut lines = maps
        .split(|&c| c == b'\n')
        .filter_map(parse_map_line)
        .peekable();
    while let Some(first) = lines.next() {
        if first.path.first() != Some(&b'/') || first.inode == 0 {
            continue;
        }
        // Collect the run of consecutive mappings of the same file. Offsets increase
        // within one loaded instance; a mapping starting again at a lower offset (or
        // at 0) is another instance mapped right next to it.
        let mut group: Vec<MapLine<'_>> = alloc::vec![first];
        while let Some(next) = lines.peek() {
            let last = group[group.len() - 1];
            if next.path == first.path && next.inode == first.inode && next.offset > last.offset {
                group.push(*next);
                lines.next();
            } else {
                break;
            }
        }
        let path = strip_deleted(first.path);
        // The ELF header of a loaded module is its first mapping. Only when that is
        // not readable is the file itself consulted (never a device: opening one may
        // have side effects), and a readable first page that is not ELF means the
        // group is some data file the program mapped.
        let loads = match group.iter().find(|m| m.offset == 0 && m.readable) {
            Some(m) => read_head(m.start, m.end - m.start),
            None if !path.starts_with(b"/dev/") => read_file_head(path),
            None => None,
        };
        let Some(loads) = loads else { continue };
        let extent = group
            .iter()
            .find_map(|m| bias_and_extent(&loads, m.start, m.offset));
        let Some((bias, lo, hi)) = extent else {
            continue;
        };
        let lo = lo.min(group[0].start);
        let hi = hi.max(group[group.len() - 1].end);
        let Ok(path) = core::str::from_utf8(path) else {
            continue;
        };
        out.push(ModuleRange {
            path: String::from(path),
            bias,
            lo,
            hi,
        });
    }
    out
}

fn strip_deleted(path: &[u8]) -> &[u8] {
    path.strip_suffix(b" (deleted)").unwrap_or(path)
}

/// How much of a module's first mapping is read to find its program headers (they
/// follow the 64-byte ELF header in every linker's output).
const HEAD_BYTES: u64 = 16384;

const NR_PROCESS_VM_READV: usize = 310;
const ENOSYS: isize = -38;
const EPERM: isize = -1;

/// Copies `buf.len()` bytes of this process's memory at `addr` into `buf`; returns
/// the number of bytes copied. Uses `process_vm_readv` on our own thread, which reports
/// an unmapped or truncated-file page as an error instead of faulting (a file the
/// program mapped and then truncated would raise SIGBUS on a plain read). Only if the
/// kernel or a seccomp filter refuses the call is the memory read directly.
fn read_own_memory(addr: u64, buf: &mut [u8]) -> Option<usize> {
    let local = [buf.as_mut_ptr() as usize, buf.len()];
    let remote = [addr as usize, buf.len()];
    // The calling thread's id, not the pid: once the main thread has called
    // pthread_exit, the thread group leader has no memory left to read.
    let tid = umbra_sys::gettid() as usize;
    let r = umbra_sys::syscall6(
        NR_PROCESS_VM_READV,
        tid,
        local.as_ptr() as usize,
        1,
        remote.as_ptr() as usize,
        1,
        0,
    );
    if r >= 0 {
        return Some(r as usize);
    }
    if r != ENOSYS && r != EPERM {
        return None;
    }
    // SAFETY: `/proc/self/maps` has just reported `[addr, addr+len)` (len >= buf.len())
    // as a readable mapping, the first page(s) of an ELF module, which the dynamic
    // loader keeps mapped while the module is loaded. (A concurrent dlclose of exactly
    // this module is the one unguarded case, as with dl_iterate_phdr.)
    let src = unsafe { core::slice::from_raw_parts(addr as *const u8, buf.len()) };
    buf.copy_from_slice(src);
    Some(buf.len())
}

/// Reads the current process's modules.
pub fn current_modules() -> Vec<ModuleRange> {
    let Some(maps) = read_proc_maps() else {
        return Vec::new();
    };
    let mut from_memory = |start: u64, len: u64| -> Option<Vec<Load>> {
        let mut head = alloc::vec![0u8; len.min(HEAD_BYTES) as usize];
        let n = read_own_memory(start, &mut head)?;
        elf_loads(&head[..n])
    };
    let mut from_file = |path: &[u8]| -> Option<Vec<Load>> {
        let (p, len) = umbra_sys::mmap_file(path)?;
        // SAFETY: `mmap_file` returned a private read-only mapping of `len` bytes that
        // nothing else references; it is unmapped right after parsing.
        let loads = elf_loads(unsafe { core::slice::from_raw_parts(p, len) });
        // SAFETY: the mapping was created above and the slice is no longer used.
        unsafe { umbra_sys::munmap(p as *mut u8, len) };
        loads
    };
    modules_from_maps(&maps, &mut from_memory, &mut from_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        let l = parse_map_line(b"7f8c91092000-7f8c910b8000 r--p 00026000 fe:00 326279                     /usr/lib/x86_64-linux-gnu/lib c.so.6").unwrap();
        assert_eq!(l.start, 0x7f8c91092000);
        assert_eq!(l.end, 0x7f8c910b8000);
        assert_eq!(l.offset, 0x26000);
        assert_eq!(l.inode, 326279);
        assert!(l.readable);
        assert_eq!(l.path, b"/usr/lib/x86_64-linux-gnu/lib c.so.6");
        let anon = parse_map_line(b"7f8c9100d000-7f8c9102f000 rw-p 00000000 00:00 0 ").unwrap();
        assert_eq!(anon.path, b"");
        assert!(parse_map_line(b"garbage").is_none());
        assert!(parse_map_line(b"").is_none());
    }

    #[test]
    fn groups_modules_with_fake_headers() {
        let maps = b"555500000000-555500001000 r--p 00000000 fe:00 7 /bin/x\n\
555500001000-555500003000 r-xp 00001000 fe:00 7 /bin/x\n\
555500003000-555500004000 rw-p 00003000 fe:00 7 /bin/x\n\
555500004000-555500005000 rw-p 00000000 00:00 0 \n\
7fff00000000-7fff00001000 rw-p 00000000 00:00 0 [stack]\n";
        let loads = alloc::vec![
            Load {
                offset: 0,
                vaddr: 0,
                memsz: 0x1000
            },
            Load {
                offset: 0x1000,
                vaddr: 0x1000,
                memsz: 0x2000
            },
            Load {
                offset: 0x3000,
                vaddr: 0x3000,
                memsz: 0x1800
            },
        ];
        let mods = modules_from_maps(maps, &mut |_, _| Some(loads.clone()), &mut |_| None);
        assert_eq!(mods.len(), 1);
        assert_eq!(mods[0].path, "/bin/x");
        assert_eq!(mods[0].bias, 0x555500000000);
        assert_eq!(mods[0].lo, 0x555500000000);
        assert_eq!(mods[0].hi, 0x555500004800); // .bss tail included
    }

    #[test]
    fn adjacent_instances_of_one_file_are_separate_modules() {
        let maps = b"7f0000000000-7f0000100000 r--p 00000000 fe:00 9 /lib/libc.so.6\n\
7f0000100000-7f0000101000 r--p 00000000 fe:00 9 /lib/libc.so.6\n\
7f0000101000-7f0000102000 r-xp 00001000 fe:00 9 /lib/libc.so.6\n";
        let loads = alloc::vec![
            Load {
                offset: 0,
                vaddr: 0,
                memsz: 0x1000
            },
            Load {
                offset: 0x1000,
                vaddr: 0x1000,
                memsz: 0x1000
            }
        ];
        let mods = modules_from_maps(maps, &mut |_, _| Some(loads.clone()), &mut |_| None);
        assert_eq!(mods.len(), 2);
        assert_eq!(
            (mods[0].bias, mods[0].lo, mods[0].hi),
            (0x7f0000000000, 0x7f0000000000, 0x7f0000100000)
        );
        assert_eq!(
            (mods[1].bias, mods[1].lo, mods[1].hi),
            (0x7f0000100000, 0x7f0000100000, 0x7f0000102000)
        );
    }

    #[test]
    fn reads_own_memory_without_faulting() {
        let data = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let mut buf = [0u8; 8];
        assert_eq!(read_own_memory(data.as_ptr() as u64, &mut buf), Some(8));
        assert_eq!(buf, data);
        // An unmapped page is an error, not a fault (process_vm_readv is available
        // on the kernels this runs on; were it refused, this would fault instead).
        let pid = umbra_sys::getpid() as usize;
        let probe = umbra_sys::syscall6(NR_PROCESS_VM_READV, pid, 0, 0, 0, 0, 0);
        if probe != ENOSYS && probe != EPERM {
            assert_eq!(read_own_memory(0x1000, &mut buf), None);
        }
    }

    #[test]
    fn own_process_has_modules() {
        let mods = current_modules();
        let exe = std::env::current_exe().unwrap();
        let exe = exe.to_str().unwrap();
        assert!(mods.iter().any(|m| m.path == exe), "{mods:?}");
        let f = own_process_has_modules as *const () as u64;
        let m = mods.iter().find(|m| m.contains(f)).unwrap();
        assert_eq!(m.path, exe);
    }
}
