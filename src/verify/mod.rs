//! `verify`: read any manifests, compute their connectivity with our own NetworkPolicy engine,
//! and compare it with the workspace's design.
//!
//! The stages, one module each, in data-flow order: `read` (files → [`raw`] objects, with
//! `kinds` saying what each kind means and `locate` the lines of list entries and policy
//! rules), `validate` (raw objects → [`manifest`] types, as the API server validates and
//! defaults them),
//! `engine` (connectivity), `compare` (findings against the model), `render` (text, JSON,
//! SARIF). Only `read` touches the file system; nothing here prints.

pub mod compare;
pub mod engine;
pub mod kinds;
pub mod locate;
pub mod manifest;
pub mod raw;
pub mod read;
pub mod render;
pub mod sets;
pub mod validate;
