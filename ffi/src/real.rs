//! The real libc functions behind umbra's interceptors.
//!
//! `dlsym(RTLD_NEXT, ..)` is not enough: when a gcc-instrumented program runs under
//! `LD_PRELOAD=libumbra.so`, the next definition of `pthread_mutex_lock` after umbra
//! is stock libtsan's interceptor, which would wake the stock runtime. So umbra
//! finds the system libraries' own link maps (libc, libm, libstdc++, ...) from
//! libc's, and asks `dlsym` in each of those directly. Each real function is looked
//! up once, on first use, and cached.

use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

#[repr(C)]
struct DlInfo {
    fname: *const c_char,
    fbase: *mut c_void,
    sname: *const c_char,
    saddr: *mut c_void,
}

#[repr(C)]
struct LinkMap {
    addr: usize,
    name: *const c_char,
    ld: *mut c_void,
    next: *mut LinkMap,
    prev: *mut LinkMap,
}

extern "C" {
    fn dladdr1(
        addr: *const c_void,
        info: *mut DlInfo,
        extra: *mut *mut c_void,
        flags: c_int,
    ) -> c_int;
    fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    pub fn __libc_malloc(n: usize) -> *mut c_void;
    pub fn __libc_calloc(n: usize, m: usize) -> *mut c_void;
    pub fn __libc_realloc(p: *mut c_void, n: usize) -> *mut c_void;
    pub fn __libc_free(p: *mut c_void);
    pub fn __libc_memalign(align: usize, n: usize) -> *mut c_void;
    pub fn malloc_usable_size(p: *mut c_void) -> usize;
}

const RTLD_DL_LINKMAP: c_int = 2;
const RTLD_LAZY: c_int = 1;
const RTLD_NOLOAD: c_int = 4;

/// Libraries whose definitions count as "real", in lookup order.
const SYSTEM_LIBS: &[&[u8]] = &[
    b"libc.so.6\0",
    b"libm.so.6\0",
    b"libstdc++.so.6\0",
    b"libgcc_s.so.1\0",
    b"ld-linux-x86-64.so.2\0",
    b"libcrypt.so.1\0",
    b"libresolv.so.2\0",
];

/// Finds the default-version definition of `name` in a loaded object's dynamic
/// symbol table through its GNU hash table, calling nothing. Used once, to find
/// libc's own `dlopen` (the program's `dlopen` may be umbra's or libtsan's).
///
/// # Safety
/// `map` must be a link map of a loaded, relocated ELF object.
unsafe fn elf_lookup(map: *const LinkMap, name: &[u8]) -> usize {
    const DT_NULL: i64 = 0;
    const DT_STRTAB: i64 = 5;
    const DT_SYMTAB: i64 = 6;
    const DT_GNU_HASH: i64 = 0x6fff_fef5;
    const DT_VERSYM: i64 = 0x6fff_fff0;
    // SAFETY: (whole body) reading the object's dynamic section and the tables it
    // points to, all mapped read-only for the life of the object.
    unsafe {
        let base = (*map).addr;
        let fix = |v: usize| if v < base { v + base } else { v };
        let (mut strtab, mut symtab, mut gnu_hash, mut versym) = (0usize, 0usize, 0usize, 0usize);
        let mut d = (*map).ld as *const [i64; 2];
        while (*d)[0] != DT_NULL {
            let v = (*d)[1] as usize;
            match (*d)[0] {
                DT_STRTAB => strtab = fix(v),
                DT_SYMTAB => symtab = fix(v),
                DT_GNU_HASH => gnu_hash = fix(v),
                DT_VERSYM => versym = fix(v),
                _ => {}
            }
            d = d.add(1);
        }
        if strtab == 0 || symtab == 0 || gnu_hash == 0 {
            return 0;
        }
        let key = &name[..name.len() - 1];
        let mut h: u32 = 5381;
        for &c in key {
            h = h.wrapping_mul(33).wrapping_add(c as u32);
        }
        let hdr = gnu_hash as *const u32;
        let (nbuckets, symoffset, bloom_size) = (*hdr, *hdr.add(1), *hdr.add(2));
        let buckets = hdr.add(4 + bloom_size as usize * 2);
        let chains = buckets.add(nbuckets as usize);
        let mut i = *buckets.add((h % nbuckets) as usize);
        if i == 0 {
            return 0;
        }
        loop {
            let ch = *chains.add((i - symoffset) as usize);
            if (ch | 1) == (h | 1) {
                // Elf64_Sym: name u32, info u8, other u8, shndx u16, value u64, size u64.
                let sym = (symtab + i as usize * 24) as *const u8;
                let sname = (strtab + *(sym as *const u32) as usize) as *const c_char;
                let hidden =
                    versym != 0 && *((versym + i as usize * 2) as *const u16) & 0x8000 != 0;
                let shndx = *(sym.add(6) as *const u16);
                if !hidden && shndx != 0 && core::ffi::CStr::from_ptr(sname).to_bytes() == key {
                    return base + *(sym.add(8) as *const u64) as usize;
                }
            }
            if ch & 1 != 0 {
                return 0;
            }
            i += 1;
        }
    }
}

type DlopenFn = unsafe extern "C" fn(*const c_char, c_int) -> *mut c_void;

/// Handles of the system libraries that are loaded, in [`SYSTEM_LIBS`] order.
fn system_handles() -> [*mut c_void; 7] {
    static HANDLES: [AtomicUsize; 7] = [const { AtomicUsize::new(0) }; 7];
    static DONE: AtomicUsize = AtomicUsize::new(0);
    let mut out = [core::ptr::null_mut(); 7];
    // Acquire: pairs with the Release below.
    if DONE.load(Ordering::Acquire) == 0 {
        let mut info = DlInfo {
            fname: core::ptr::null(),
            fbase: core::ptr::null_mut(),
            sname: core::ptr::null(),
            saddr: core::ptr::null_mut(),
        };
        let mut map: *mut c_void = core::ptr::null_mut();
        // SAFETY: dladdr1 fills `info` and `map` for an address inside libc.
        let ok = unsafe {
            dladdr1(
                __libc_malloc as *const c_void,
                &mut info,
                &mut map,
                RTLD_DL_LINKMAP,
            )
        };
        if ok == 0 || map.is_null() {
            return out;
        }
        // SAFETY: `map` is libc's link map.
        let dlopen = unsafe { elf_lookup(map as *const LinkMap, b"dlopen\0") };
        if dlopen == 0 {
            return out;
        }
        // SAFETY: libc's dlopen has this signature.
        let dlopen: DlopenFn = unsafe { core::mem::transmute(dlopen) };
        for (i, lib) in SYSTEM_LIBS.iter().enumerate() {
            // SAFETY: NUL-terminated name; NOLOAD only returns already loaded objects.
            let h = unsafe { dlopen(lib.as_ptr() as *const c_char, RTLD_LAZY | RTLD_NOLOAD) };
            HANDLES[i].store(h as usize, Ordering::Relaxed);
        }
        DONE.store(1, Ordering::Release);
    }
    for (o, h) in out.iter_mut().zip(HANDLES.iter()) {
        *o = h.load(Ordering::Relaxed) as *mut c_void;
    }
    out
}

/// Address of the system library definition of `name` (NUL-terminated), or 0.
pub fn lookup(name: &[u8]) -> usize {
    debug_assert!(name.ends_with(b"\0"));
    for h in system_handles() {
        if h.is_null() {
            continue;
        }
        // SAFETY: a handle from dlopen and a NUL-terminated name.
        let p = unsafe { dlsym(h, name.as_ptr() as *const c_char) };
        if !p.is_null() {
            return p as usize;
        }
    }
    0
}

/// Resolves `name` once into `slot`, or dies with a clear message.
#[cold]
pub fn resolve_into(slot: &AtomicUsize, name: &[u8]) -> usize {
    let f = lookup(name);
    if f == 0 {
        umbra_sys::internal_error(format_args!(
            "cannot find the real '{}' in the system libraries",
            core::str::from_utf8(&name[..name.len() - 1]).unwrap_or("?")
        ));
    }
    // Relaxed: racing resolvers store the same value.
    slot.store(f, Ordering::Relaxed);
    f
}

/// Declares `real::NAME(args) -> ret`, calling the system library's NAME.
macro_rules! real_fns {
    ($( fn $name:ident ( $($arg:ident : $t:ty),* ) -> $ret:ty; )*) => {$(
        #[allow(non_snake_case, clippy::missing_safety_doc)]
        pub unsafe fn $name($($arg: $t),*) -> $ret {
            static SLOT: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
            let mut f = SLOT.load(core::sync::atomic::Ordering::Relaxed);
            if f == 0 {
                f = $crate::real::resolve_into(&SLOT, concat!(stringify!($name), "\0").as_bytes());
            }
            // SAFETY: `f` is the address of the C function `$name`, whose C
            // signature is the one declared here.
            let f: unsafe extern "C" fn($($t),*) -> $ret = unsafe { core::mem::transmute(f) };
            // SAFETY: the caller upholds `$name`'s contract (this wrapper is as
            // unsafe as the C function it calls).
            unsafe { f($($arg),*) }
        }
    )*};
}

pub(crate) use real_fns;

pub type Ptr = *mut c_void;
pub type StartFn = extern "C" fn(Ptr) -> Ptr;

real_fns! {
    fn __cxa_atexit(f: extern "C" fn(Ptr), arg: Ptr, dso: Ptr) -> c_int;
    fn __cxa_at_quick_exit(f: extern "C" fn(Ptr), dso: Ptr) -> c_int;
    fn fflush(f: Ptr) -> c_int;
    fn _exit(status: c_int) -> ();
    fn abort() -> ();
    fn pthread_create(t: *mut usize, attr: Ptr, start: StartFn, arg: Ptr) -> c_int;
    fn pthread_join(t: usize, ret: *mut Ptr) -> c_int;
    fn pthread_tryjoin_np(t: usize, ret: *mut Ptr) -> c_int;
    fn pthread_timedjoin_np(t: usize, ret: *mut Ptr, ts: Ptr) -> c_int;
    fn pthread_detach(t: usize) -> c_int;
    fn pthread_key_create(key: *mut u32, dtor: extern "C" fn(Ptr)) -> c_int;
    fn pthread_setspecific(key: u32, v: Ptr) -> c_int;
    fn pthread_mutex_init(m: Ptr, a: Ptr) -> c_int;
    fn pthread_mutex_destroy(m: Ptr) -> c_int;
    fn pthread_mutex_lock(m: Ptr) -> c_int;
    fn pthread_mutex_trylock(m: Ptr) -> c_int;
    fn pthread_mutex_timedlock(m: Ptr, ts: Ptr) -> c_int;
    fn pthread_mutex_clocklock(m: Ptr, c: c_int, ts: Ptr) -> c_int;
    fn pthread_mutex_unlock(m: Ptr) -> c_int;
    fn pthread_rwlock_init(m: Ptr, a: Ptr) -> c_int;
    fn pthread_rwlock_destroy(m: Ptr) -> c_int;
    fn pthread_rwlock_rdlock(m: Ptr) -> c_int;
    fn pthread_rwlock_tryrdlock(m: Ptr) -> c_int;
    fn pthread_rwlock_timedrdlock(m: Ptr, ts: Ptr) -> c_int;
    fn pthread_rwlock_wrlock(m: Ptr) -> c_int;
    fn pthread_rwlock_trywrlock(m: Ptr) -> c_int;
    fn pthread_rwlock_timedwrlock(m: Ptr, ts: Ptr) -> c_int;
    fn pthread_rwlock_unlock(m: Ptr) -> c_int;
    fn pthread_spin_init(m: Ptr, s: c_int) -> c_int;
    fn pthread_spin_destroy(m: Ptr) -> c_int;
    fn pthread_spin_lock(m: Ptr) -> c_int;
    fn pthread_spin_trylock(m: Ptr) -> c_int;
    fn pthread_spin_unlock(m: Ptr) -> c_int;
    fn pthread_cond_wait(c: Ptr, m: Ptr) -> c_int;
    fn pthread_cond_timedwait(c: Ptr, m: Ptr, ts: Ptr) -> c_int;
    fn pthread_cond_clockwait(c: Ptr, m: Ptr, clk: c_int, ts: Ptr) -> c_int;
    fn pthread_barrier_wait(b: Ptr) -> c_int;
    fn pthread_once(o: *mut c_int, f: extern "C" fn()) -> c_int;
    fn sem_wait(s: Ptr) -> c_int;
    fn sem_trywait(s: Ptr) -> c_int;
    fn sem_timedwait(s: Ptr, ts: Ptr) -> c_int;
    fn sem_clockwait(s: Ptr, c: c_int, ts: Ptr) -> c_int;
    fn sem_post(s: Ptr) -> c_int;
    fn read(fd: c_int, b: Ptr, n: usize) -> isize;
    fn write(fd: c_int, b: Ptr, n: usize) -> isize;
    fn pread64(fd: c_int, b: Ptr, n: usize, off: i64) -> isize;
    fn pwrite64(fd: c_int, b: Ptr, n: usize, off: i64) -> isize;
    fn readv(fd: c_int, v: Ptr, n: c_int) -> isize;
    fn writev(fd: c_int, v: Ptr, n: c_int) -> isize;
    fn send(fd: c_int, b: Ptr, n: usize, f: c_int) -> isize;
    fn sendto(fd: c_int, b: Ptr, n: usize, f: c_int, a: Ptr, l: u32) -> isize;
    fn sendmsg(fd: c_int, m: Ptr, f: c_int) -> isize;
    fn recv(fd: c_int, b: Ptr, n: usize, f: c_int) -> isize;
    fn recvfrom(fd: c_int, b: Ptr, n: usize, f: c_int, a: Ptr, l: Ptr) -> isize;
    fn recvmsg(fd: c_int, m: Ptr, f: c_int) -> isize;
    fn close(fd: c_int) -> c_int;
    fn pipe(fds: *mut c_int) -> c_int;
    fn pipe2(fds: *mut c_int, f: c_int) -> c_int;
    fn socketpair(d: c_int, t: c_int, p: c_int, fds: *mut c_int) -> c_int;
    fn mmap(a: Ptr, n: usize, p: c_int, f: c_int, fd: c_int, off: i64) -> Ptr;
    fn munmap(a: Ptr, n: usize) -> c_int;
    fn mremap(a: Ptr, old: usize, new: usize, f: c_int, to: Ptr) -> Ptr;
    fn madvise(a: Ptr, n: usize, advice: c_int) -> c_int;
    fn fork() -> c_int;
    fn sleep(s: u32) -> u32;
    fn usleep(us: u32) -> c_int;
    fn nanosleep(req: Ptr, rem: Ptr) -> c_int;
    fn pthread_self() -> usize;
    fn pthread_getattr_np(t: usize, attr: Ptr) -> c_int;
    fn pthread_attr_getstack(attr: Ptr, addr: *mut Ptr, size: *mut usize) -> c_int;
    fn pthread_attr_destroy(attr: Ptr) -> c_int;
    fn pthread_attr_getdetachstate(attr: Ptr, state: *mut c_int) -> c_int;
    fn _dl_get_tls_static_info(size: *mut usize, align: *mut usize) -> ();
    fn __cxa_guard_acquire(g: *mut u64) -> c_int;
    fn __cxa_guard_release(g: *mut u64) -> ();
    fn __cxa_guard_abort(g: *mut u64) -> ();
}

pub unsafe fn cxa_atexit(f: extern "C" fn(Ptr), arg: Ptr, dso: Ptr) -> c_int {
    // SAFETY: forwarded.
    unsafe { __cxa_atexit(f, arg, dso) }
}

pub unsafe fn cxa_at_quick_exit(f: extern "C" fn(Ptr), dso: Ptr) -> c_int {
    // SAFETY: forwarded.
    unsafe { __cxa_at_quick_exit(f, dso) }
}

pub unsafe fn fflush_all() {
    // SAFETY: fflush(NULL) flushes every open output stream.
    unsafe { fflush(core::ptr::null_mut()) };
}
