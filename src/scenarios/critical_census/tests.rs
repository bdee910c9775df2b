//! Tests of `critical-census`.
