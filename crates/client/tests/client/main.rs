//! The client: resilience scenarios against wiremock (paused time wherever no real
//! timeout is involved), and every operation against the reference server.

mod chaos;
mod end_to_end;
mod resilience;
mod support;
