//! Reporting payloads: the run-start and run-end bodies chef-client posts (validated into
//! typed values, with the 400 texts clients see), the time formats it sends, and the
//! query parameters of the reporting reads. Pure functions; no I/O.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Run statuses a stored run may have (`started` until the end post arrives).
pub const STATUSES: [&str; 4] = ["started", "success", "failure", "aborted"];

/// A validated run-start post.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStart {
    pub run_id: String,
    pub start_time: i64,
}

/// A validated run-end post.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnd {
    pub status: String,
    pub start_time: Option<i64>,
    pub end_time: i64,
    pub total_res_count: i64,
    /// Each resource record as sent (type, name, id, before, after, duration, …).
    pub resources: Vec<Map<String, Value>>,
    /// `run_list`, `expanded_run_list` and `data`, kept as the client sent them.
    pub detail: Map<String, Value>,
}

fn missing(field: &str) -> Error {
    Error::bad_request(format!("Field '{field}' missing"))
}

fn invalid(field: &str, why: &str) -> Error {
    Error::bad_request(format!("Field '{field}' invalid: {why}"))
}

fn required<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a Value> {
    match body.get(field) {
        None | Some(Value::Null) => Err(missing(field)),
        Some(v) => Ok(v),
    }
}

fn required_str<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str> {
    required(body, field)?
        .as_str()
        .ok_or_else(|| invalid(field, "must be a string"))
}

fn check_action(body: &Map<String, Value>, expected: &str) -> Result<()> {
    let action = required_str(body, "action")?;
    if action == expected {
        Ok(())
    } else {
        Err(invalid("action", &format!("must be '{expected}'")))
    }
}

/// Whether `s` is a UUID in its hyphenated text form (what chef-client sends as run ids).
pub fn is_run_id(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// Parses the times chef-client and people send: Ruby `Time#to_s`
/// (`2013-10-08 15:04:05 -0700`, or `… UTC`), RFC 3339 / ISO 8601, a naive
/// `YYYY-MM-DD HH:MM:SS` (taken as UTC), or Unix seconds. Returns Unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.timestamp());
        }
    }
    let naive = s
        .strip_suffix(" UTC")
        .or_else(|| s.strip_suffix(" GMT"))
        .unwrap_or(s);
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(Utc.from_utc_datetime(&t).timestamp());
        }
    }
    None
}

fn time_field(body: &Map<String, Value>, field: &str) -> Result<Option<i64>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => parse_time(s).map(Some).ok_or_else(|| {
            invalid(
                field,
                "expected a time such as '2013-10-08 15:04:05 -0700' or '2013-10-08T22:04:05Z'",
            )
        }),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(field, "must be whole Unix seconds")),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

/// Renders Unix seconds as RFC 3339 in UTC (`2014-11-14T23:33:34Z`).
pub fn format_time(t: i64) -> String {
    match Utc.timestamp_opt(t, 0).single() {
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => t.to_string(),
    }
}

/// Validates a run-start post (`{"action":"start","run_id":…,"start_time":…}`).
pub fn parse_start(body: &Map<String, Value>) -> Result<RunStart> {
    check_action(body, "start")?;
    let run_id = required_str(body, "run_id")?;
    if !is_run_id(run_id) {
        return Err(invalid("run_id", "must be a UUID"));
    }
    let start_time = time_field(body, "start_time")?.ok_or_else(|| missing("start_time"))?;
    Ok(RunStart {
        run_id: run_id.to_ascii_lowercase(),
        start_time,
    })
}

/// A count chef-client sends as a string of digits; a JSON number is accepted too.
fn count_field(body: &Map<String, Value>, field: &str) -> Result<i64> {
    let why = "must be a non-negative integer (or a string of one)";
    let n = match required(body, field)? {
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| invalid(field, why))?,
        Value::Number(n) => n.as_i64().ok_or_else(|| invalid(field, why))?,
        _ => return Err(invalid(field, why)),
    };
    if n < 0 {
        return Err(invalid(field, why));
    }
    Ok(n)
}

fn check_resource(i: usize, v: &Value) -> Result<Map<String, Value>> {
    let field = format!("resources[{i}]");
    let Value::Object(r) = v else {
        return Err(invalid(&field, "must be an object"));
    };
    for key in ["type", "name"] {
        match r.get(key) {
            Some(Value::String(_)) => {}
            None | Some(Value::Null) => return Err(missing(&format!("{field}.{key}"))),
            Some(_) => return Err(invalid(&format!("{field}.{key}"), "must be a string")),
        }
    }
    for key in ["before", "after"] {
        if !matches!(
            r.get(key),
            None | Some(Value::Null) | Some(Value::Object(_))
        ) {
            return Err(invalid(&format!("{field}.{key}"), "must be an object"));
        }
    }
    for key in ["id", "result", "delta", "cookbook_name", "cookbook_version"] {
        if !matches!(
            r.get(key),
            None | Some(Value::Null) | Some(Value::String(_))
        ) {
            return Err(invalid(&format!("{field}.{key}"), "must be a string"));
        }
    }
    if !matches!(
        r.get("duration"),
        None | Some(Value::Null) | Some(Value::String(_)) | Some(Value::Number(_))
    ) {
        return Err(invalid(
            &format!("{field}.duration"),
            "must be milliseconds, as a string or a number",
        ));
    }
    Ok(r.clone())
}

/// Validates a run-end post (section C.1 of the reference: status, resources,
/// `total_res_count`, `run_list`, `data`, `end_time`, …).
pub fn parse_end(body: &Map<String, Value>) -> Result<RunEnd> {
    check_action(body, "end")?;
    let status = required_str(body, "status")?;
    if !["success", "failure", "aborted"].contains(&status) {
        return Err(invalid(
            "status",
            "must be 'success', 'failure' or 'aborted'",
        ));
    }
    let end_time = time_field(body, "end_time")?.ok_or_else(|| missing("end_time"))?;
    let start_time = time_field(body, "start_time")?;
    if start_time.is_some_and(|s| s > end_time) {
        return Err(invalid("end_time", "is before start_time"));
    }
    let total_res_count = count_field(body, "total_res_count")?;
    let resources = match required(body, "resources")? {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| check_resource(i, v))
            .collect::<Result<Vec<_>>>()?,
        _ => return Err(invalid("resources", "must be an array")),
    };
    let mut detail = Map::new();
    for key in ["run_list", "expanded_run_list"] {
        match body.get(key) {
            None | Some(Value::Null) => {}
            // chef-client sends these as JSON-encoded strings; an array or object is kept
            // in the same encoded form.
            Some(Value::String(s)) => {
                detail.insert(key.into(), Value::String(s.clone()));
            }
            Some(v @ (Value::Array(_) | Value::Object(_))) => {
                detail.insert(key.into(), Value::String(v.to_string()));
            }
            Some(_) => return Err(invalid(key, "must be a string")),
        }
    }
    match body.get("data") {
        None | Some(Value::Null) => {
            detail.insert("data".into(), Value::Object(Map::new()));
        }
        Some(Value::Object(d)) => {
            detail.insert("data".into(), Value::Object(d.clone()));
        }
        Some(_) => return Err(invalid("data", "must be an object")),
    }
    Ok(RunEnd {
        status: status.to_string(),
        start_time,
        end_time,
        total_res_count,
        resources,
        detail,
    })
}

/// Paging of a listing: `rows` (default 10, at most `MAX_ROWS`) from `start` (default 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Page {
    pub rows: i64,
    pub start: i64,
}

pub const MAX_ROWS: i64 = 1000;

fn non_negative(name: &str, v: Option<&str>, default: i64) -> Result<i64> {
    match v {
        None => Ok(default),
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            _ => Err(Error::bad_request(format!(
                "Parameter '{name}' must be a non-negative integer"
            ))),
        },
    }
}

impl Page {
    pub fn parse(rows: Option<&str>, start: Option<&str>) -> Result<Page> {
        let rows = non_negative("rows", rows, 10)?;
        if rows > MAX_ROWS {
            return Err(Error::bad_request(format!(
                "Parameter 'rows' must be at most {MAX_ROWS}"
            )));
        }
        let start = non_negative("start", start, 0)?;
        Ok(Page { rows, start })
    }
}

/// A time window `[from, until]` in Unix seconds, both ends included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub from: i64,
    pub until: i64,
}

fn time_param(name: &str, v: Option<&str>) -> Result<Option<i64>> {
    match v {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_time(s).map(Some).ok_or_else(|| {
            Error::bad_request(format!(
                "Parameter '{name}' must be Unix seconds or an RFC 3339 time"
            ))
        }),
    }
}

impl Window {
    /// `until` defaults to `now`, `from` to `until - default_span`.
    pub fn parse(
        from: Option<&str>,
        until: Option<&str>,
        now: i64,
        default_span: i64,
    ) -> Result<Window> {
        let until = time_param("until", until)?.unwrap_or(now);
        let from = time_param("from", from)?.unwrap_or(until.saturating_sub(default_span));
        if from > until {
            return Err(Error::bad_request(
                "Parameter 'from' must not be later than 'until'",
            ));
        }
        Ok(Window { from, until })
    }
}

/// The `status` filter of run listings.
pub fn parse_status(v: Option<&str>) -> Result<Option<String>> {
    match v {
        None | Some("") => Ok(None),
        Some(s) if STATUSES.contains(&s) => Ok(Some(s.to_string())),
        Some(_) => Err(Error::bad_request(
            "Parameter 'status' must be one of started, success, failure, aborted",
        )),
    }
}

/// Bucket widths of `/reports/runs/counts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Minute,
    Hour,
    Day,
    Week,
}

/// Monday 1970-01-05 00:00 UTC: weeks are aligned to it (ISO weeks start on Monday).
const WEEK_ORIGIN: i64 = 4 * 86_400;

impl Granularity {
    pub fn parse(v: Option<&str>) -> Result<Granularity> {
        match v {
            Some("minute") => Ok(Granularity::Minute),
            Some("hour") => Ok(Granularity::Hour),
            Some("day") => Ok(Granularity::Day),
            Some("week") => Ok(Granularity::Week),
            None | Some("") => Err(Error::bad_request("Parameter 'granularity' missing")),
            Some(_) => Err(Error::bad_request(
                "Parameter 'granularity' must be one of minute, hour, day, week",
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Granularity::Minute => "minute",
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Week => "week",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            Granularity::Minute => 60,
            Granularity::Hour => 3_600,
            Granularity::Day => 86_400,
            Granularity::Week => 604_800,
        }
    }

    /// Where bucket boundaries fall: multiples of the width counted from this origin.
    pub fn origin(self) -> i64 {
        match self {
            Granularity::Week => WEEK_ORIGIN,
            _ => 0,
        }
    }

    /// The default window when `from` is absent: 60 minutes, 24 hours, 30 days or 12 weeks.
    pub fn default_span(self) -> i64 {
        self.seconds()
            * match self {
                Granularity::Minute => 60,
                Granularity::Hour => 24,
                Granularity::Day => 30,
                Granularity::Week => 12,
            }
    }

    /// The start of the bucket holding `t`.
    pub fn floor(self, t: i64) -> i64 {
        let w = self.seconds();
        t - (t - self.origin()).rem_euclid(w)
    }
}

/// Upper bounds (exclusive, seconds) of the `/reports/runs/durations` buckets; the last
/// bucket is open-ended.
pub const DURATION_BOUNDS: [i64; 8] = [10, 30, 60, 120, 300, 600, 1800, 3600];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn parses_the_time_formats_clients_send() {
        let t = 1_381_269_845; // 2013-10-08 22:04:05 UTC
        assert_eq!(parse_time("2013-10-08 15:04:05 -0700"), Some(t));
        assert_eq!(parse_time("2013-10-08 22:04:05 UTC"), Some(t));
        assert_eq!(parse_time("2013-10-08 22:04:05 +0000"), Some(t));
        assert_eq!(parse_time("2013-10-08T22:04:05Z"), Some(t));
        assert_eq!(parse_time("2013-10-09T00:04:05+02:00"), Some(t));
        assert_eq!(parse_time("2013-10-08 22:04:05"), Some(t));
        assert_eq!(parse_time("1381269845"), Some(t));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time(""), None);
        assert_eq!(format_time(t), "2013-10-08T22:04:05Z");
    }

    #[test]
    fn start_requires_action_uuid_and_time() {
        let ok = json!({"action":"start","run_id":"550e4500-e22b-4ad4-a716-446659876500","start_time":"2013-10-08 15:04:05 -0700"});
        assert_eq!(parse_start(&obj(ok)).unwrap().start_time, 1_381_269_845);
        let e = parse_start(&obj(json!({"run_id":"x"}))).unwrap_err();
        assert!(e.to_string().contains("'action' missing"));
        let e = parse_start(&obj(
            json!({"action":"start","run_id":"x","start_time":"now"}),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("'run_id' invalid"));
    }

    #[test]
    fn end_accepts_chef_client_shapes() {
        let body = json!({
            "action":"end","status":"failure","total_res_count":"1","run_list":"[\"recipe[a]\"]",
            "end_time":"2013-10-08 15:05:05 -0700","start_time":"2013-10-08 15:04:05 -0700",
            "expanded_run_list":"{}",
            "data":{"exception":{"class":"#<RuntimeError: x>","message":"x","backtrace":"[]","description":{}}},
            "resources":[{"type":"file","name":"/tmp/a","id":"/tmp/a","after":{},"before":{},
                          "duration":"12","delta":"","result":"create","cookbook_name":"a","cookbook_version":null}]
        });
        let end = parse_end(&obj(body)).unwrap();
        assert_eq!(end.total_res_count, 1);
        assert_eq!(end.end_time - end.start_time.unwrap(), 60);
        assert_eq!(end.resources.len(), 1);
        let e = parse_end(&obj(json!({"action":"end","status":"success","end_time":"2013-10-08 15:05:05 -0700","total_res_count":"x","resources":[]}))).unwrap_err();
        assert!(e.to_string().contains("'total_res_count' invalid"));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-02 is a Wednesday; its week starts Monday 2026-11-30.
        let wed = parse_time("2026-12-02T10:00:00Z").unwrap();
        let mon = parse_time("2026-11-30T00:00:00Z").unwrap();
        assert_eq!(Granularity::Week.floor(wed), mon);
        assert_eq!(
            Granularity::Hour.floor(wed + 59),
            parse_time("2026-12-02T10:00:00Z").unwrap()
        );
    }
}
