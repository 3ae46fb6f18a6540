//! Support code shared by the end-to-end tests (each test binary uses a part of it).
#![allow(dead_code)]

pub mod annotated;
pub mod check;
pub mod cprog;
pub mod exec;
pub mod program;
pub mod report;
pub mod toolchain;
pub mod verdicts;
