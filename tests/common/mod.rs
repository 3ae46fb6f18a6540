//! Support code for the end-to-end corpus test (tests/corpus.rs).

pub mod check;
pub mod cprog;
pub mod exec;
pub mod program;
pub mod report;
pub mod toolchain;
pub mod verdicts;
