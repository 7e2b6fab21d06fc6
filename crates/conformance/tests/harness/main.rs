//! Proving the harness: it passes the reference server, fails every deliberately broken
//! one naming the broken rule, passes conformant variations, reports bad contracts
//! precisely, and never prints a secret. One binary.

mod bad_contracts;
mod baseline;
mod browser;
mod drift;
mod gateway;
mod mutation;
mod outputs;
mod proxy;
mod record;
mod reproduce;
mod support;
