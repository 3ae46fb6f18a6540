//! Deep call chains of small non-inlined functions (func entry/exit): argv[1]
//! chains of 16 nested calls, each adding to its callee's result.
use std::hint::black_box;

macro_rules! chain {
    ($($f:ident($n:literal) -> $next:ident;)*) => {$(
        #[inline(never)]
        fn $f(x: u64) -> u64 {
            $next(black_box(x + $n)) ^ $n
        }
    )*};
}

#[inline(never)]
fn f16(x: u64) -> u64 {
    black_box(x * 3)
}

chain! {
    f15(15) -> f16; f14(14) -> f15; f13(13) -> f14; f12(12) -> f13; f11(11) -> f12;
    f10(10) -> f11; f9(9) -> f10; f8(8) -> f9; f7(7) -> f8; f6(6) -> f7; f5(5) -> f6;
    f4(4) -> f5; f3(3) -> f4; f2(2) -> f3; f1(1) -> f2; f0(0) -> f1;
}

fn main() {
    let n = umbra_bench_workloads::arg_or(2_000_000);
    let mut s = 0u64;
    for i in 0..n {
        s = s.wrapping_add(f0(i));
    }
    println!("{s}");
}
