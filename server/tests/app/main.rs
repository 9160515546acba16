//! The server's integration tests, one binary (one link, one `spawn_app`): the real
//! server on a random loopback port, each scenario against a fresh SQLite file and a
//! fresh PostgreSQL database. Modules by area.

#[macro_use]
mod support;

mod accounts;
mod console;
mod disputes;
mod fraud;
mod fuzz;
mod hardening;
mod https;
mod merchant;
mod payments;
mod secrets;
mod shop;
mod webhook;
