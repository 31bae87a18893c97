//! The integration tests: one binary (link time matters on a 2-core machine), one module per
//! command or concern. `support` holds the shared helpers, including the paths of the external
//! oracles that `scripts/install-tools.sh` installs.

mod architecture;
mod assess;
mod check;
mod conformance;
mod corpus;
mod deep;
mod diff;
mod distribution;
mod docs;
mod export;

mod fail_closed;
mod flows;
mod generate;
mod graph;
mod import;
mod init;
mod injection;
mod nca;
mod peers;
mod random_model;
mod record;
mod robust;
mod robust_writes;
mod rollout;
mod schema;
mod support;
mod verify;
mod verify_input;
