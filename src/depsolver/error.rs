//! Why a run list could not be solved, and the 412 body erchef sends for each case.

use serde_json::{json, Value};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    /// Run-list cookbooks the org has no versions of at all (checked before solving).
    #[error("no such cookbook(s) {}", .0.join(", "))]
    NoSuchCookbooks(Vec<String>),
    /// Run-list items whose constraint matches no version the environment allows,
    /// rendered `(foo = 2.0.0)`.
    #[error("no versions match {}", .0.join(", "))]
    NoVersions(Vec<String>),
    /// The solver proved there is no assignment; fields as dep-selector reports them.
    #[error("{message}")]
    NoSolution {
        message: String,
        unsatisfiable_run_list_item: String,
        non_existent_cookbooks: Vec<String>,
        most_constrained_cookbooks: Vec<String>,
    },
    #[error("unable to solve dependencies in alotted time")]
    Timeout,
}

impl SolveError {
    /// The whole 412 body: `{"error":[{...}]}`, keys in erchef's order.
    pub fn body(&self) -> Value {
        let inner = match self {
            SolveError::NoSuchCookbooks(names) => {
                let message = match names.as_slice() {
                    [one] => format!("Run list contains invalid items: no such cookbook {one}."),
                    _ => format!(
                        "Run list contains invalid items: no such cookbooks {}.",
                        names.join(", ")
                    ),
                };
                json!({
                    "message": message,
                    "non_existent_cookbooks": names,
                    "cookbooks_with_no_versions": [],
                })
            }
            SolveError::NoVersions(labels) => {
                let message = match labels.as_slice() {
                    [one] => format!(
                        "Run list contains invalid items: no versions match the constraints on cookbook {one}."
                    ),
                    _ => format!(
                        "Run list contains invalid items: no versions match the constraints on cookbooks {}.",
                        labels.join(", ")
                    ),
                };
                json!({
                    "message": message,
                    "non_existent_cookbooks": [],
                    "cookbooks_with_no_versions": labels,
                })
            }
            SolveError::NoSolution {
                message,
                unsatisfiable_run_list_item,
                non_existent_cookbooks,
                most_constrained_cookbooks,
            } => json!({
                "message": message,
                "unsatisfiable_run_list_item": unsatisfiable_run_list_item,
                "non_existent_cookbooks": non_existent_cookbooks,
                "most_constrained_cookbooks": most_constrained_cookbooks,
            }),
            SolveError::Timeout => json!({
                "message": "unable to solve dependencies in alotted time",
                "non_existent_cookbooks": [],
                "most_constrained_cookbooks": [],
            }),
        };
        json!({ "error": [inner] })
    }
}
