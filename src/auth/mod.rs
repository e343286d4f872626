//! Authentication and authorization shared by the API families: Mixlib signed headers
//! (Infra, Reporting), key generation, password hashing, and the typed requestor that
//! handlers receive.

pub mod authz;
pub mod extract;
pub mod file_url;
pub mod jwt;
pub mod keygen;
pub mod password;
pub mod signed_header;

pub use extract::{Requestor, RequestorKind};
