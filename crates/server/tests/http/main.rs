//! The reference server over real HTTP on loopback: every rule of PROFILE.md it
//! implements, accepted and rejected, the seed page's session, and fuzzing for ERR-3.
//! One binary, so the suite links once.

mod any_branch;
mod documented;
mod flows;
mod fuzz;
mod limits;
mod rejections;
mod support;
mod traffic;
mod variations;
