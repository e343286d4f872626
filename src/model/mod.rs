//! Object rules shared by the API families: validation, defaults and the JSON each
//! object is rendered as. Pure functions; no I/O.

pub mod client;
pub mod cookbook;
pub mod data_bag;
pub mod key;
pub mod names;
pub mod objects;
pub mod policy;
pub mod report;
pub mod run_list;
pub mod user;
pub mod version;
