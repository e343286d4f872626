//! Object rules shared by the API families: validation, defaults and the JSON each
//! object is rendered as. Pure functions; no I/O.

pub mod key;
pub mod names;
pub mod user;
