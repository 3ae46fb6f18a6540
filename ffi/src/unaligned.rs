//! `__sanitizer_unaligned_load16/32/64` and `_store16/32/64`: the loads and
//! stores of `<sanitizer/common_interface_defs.h>` that code uses for unaligned
//! words it would rather not spell as a `memcpy`. Each is a checked access of its
//! size at the caller's pc (like `__tsan_unaligned_readN`), then the access itself.

use crate::entry::{access_any, caller_pc, AccessKind};

macro_rules! unaligned_load_store {
    ($( $t:ty, $bytes:literal => $load:ident, $store:ident; )*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $load(p: *const $t) -> $t {
            access_any(p as usize, $bytes, AccessKind::Read, caller_pc());
            // SAFETY: the caller passes memory readable for the size, at any alignment.
            unsafe { p.read_unaligned() }
        }

        #[no_mangle]
        pub unsafe extern "C" fn $store(p: *mut $t, v: $t) {
            access_any(p as usize, $bytes, AccessKind::Write, caller_pc());
            // SAFETY: the caller passes memory writable for the size, at any alignment.
            unsafe { p.write_unaligned(v) }
        }
    )*};
}

unaligned_load_store! {
    u16, 2 => __sanitizer_unaligned_load16, __sanitizer_unaligned_store16;
    u32, 4 => __sanitizer_unaligned_load32, __sanitizer_unaligned_store32;
    u64, 8 => __sanitizer_unaligned_load64, __sanitizer_unaligned_store64;
}
