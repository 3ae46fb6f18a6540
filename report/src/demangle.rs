//! Symbol demangling for report frames.
//!
//! Rust symbols (legacy `_ZN...17h<hash>E` and v0 `_R...`) are demangled with
//! `rustc-demangle` in its alternate form, which drops the hash suffix and crate
//! disambiguators (`racy::main::{{closure}}`); C++ Itanium symbols (`_Z...`) with
//! `cpp_demangle`, giving the full name with parameter types as llvm-symbolizer
//! prints it (`Thread1(void*)`). Anything else (C names) is returned unchanged.

use alloc::format;
use alloc::string::{String, ToString};

/// Demangles `name` if it is a Rust or C++ mangled name; otherwise returns it as is.
pub fn demangle(name: &str) -> String {
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        return format!("{:#}", d);
    }
    if name.starts_with("_Z") {
        if let Ok(sym) = cpp_demangle::Symbol::new(name.as_bytes()) {
            if let Ok(s) = sym.demangle() {
                return s;
            }
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_legacy() {
        assert_eq!(demangle("_ZN4racy4main17h0123456789abcdefE"), "racy::main");
        assert_eq!(
            demangle("_ZN4racy4main28_$u7b$$u7b$closure$u7d$$u7d$17h0123456789abcdefE"),
            "racy::main::{{closure}}"
        );
        // LLVM-added suffixes are dropped too.
        assert_eq!(
            demangle("_ZN4racy4main17h0123456789abcdefE.llvm.1234"),
            "racy::main"
        );
    }

    #[test]
    fn rust_v0() {
        assert_eq!(demangle("_RNvCs1234_4racy4main"), "racy::main");
        assert_eq!(
            demangle("_RNCNvCsbmNqQUJIY6D_4racy4main0B3_"),
            "racy::main::{closure#0}"
        );
    }

    #[test]
    fn cpp() {
        assert_eq!(demangle("_Z7Thread1Pv"), "Thread1(void*)");
        assert_eq!(demangle("_ZN2ns3FooC2Ei"), "ns::Foo::Foo(int)");
        assert_eq!(
            demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"),
            "std::vector<int, std::allocator<int> >::push_back(int const&)"
        );
    }

    #[test]
    fn c_and_garbage_unchanged() {
        assert_eq!(demangle("main"), "main");
        assert_eq!(demangle("Thread1"), "Thread1");
        assert_eq!(demangle("_Zgarbage"), "_Zgarbage");
        assert_eq!(demangle("_R"), "_R");
        assert_eq!(demangle(""), "");
    }
}
