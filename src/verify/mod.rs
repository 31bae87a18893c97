//! `verify`: read any manifests, compute their connectivity with our own NetworkPolicy engine,
//! and compare it with the workspace's design.
//!
//! The stages, one module each, in data-flow order: `read` (files → [`manifest`] types, with
//! `locate` for the lines of list entries and policy rules),
//! `engine` (connectivity), `compare` (findings against the model), `render` (text, JSON,
//! SARIF). Only `read` touches the file system; nothing here prints.

pub mod compare;
pub mod engine;
pub mod locate;
pub mod manifest;
pub mod read;
pub mod render;
pub mod sets;
