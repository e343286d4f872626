//! Stopping a query that runs too long or whose client went away. A `Cancel` flag is set
//! when the query's time budget (`search.query_timeout_ms`) runs out or its request
//! future is dropped; the engine checks it where the work is: before building each
//! wildcard term's automaton (a DFA over UTF-8: 150 ms for a 40-star pattern in a debug
//! build), while a wildcard term walks the term dictionary (`StoppableRegexQuery`),
//! before each segment, and every few thousand matching documents (`Stoppable`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tantivy::query::{AutomatonWeight, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::Field;
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyError, TERMINATED};
use tantivy_fst::{Automaton, Regex};

/// Documents a scorer yields between two looks at the flag.
const CHECK_EVERY: u32 = 4096;

/// A query's stop flag; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// A guard that sets the flag when dropped (with the request future that holds it).
    pub fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }

    fn check(&self) -> tantivy::Result<()> {
        if self.is_cancelled() {
            return Err(TantivyError::InternalError("query cancelled".into()));
        }
        Ok(())
    }
}

pub struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// An automaton that can match nothing more once cancelled, which ends a term-dictionary
/// walk at its next step.
#[derive(Debug)]
pub struct StoppableAutomaton<A> {
    inner: A,
    cancel: Cancel,
}

impl<A: Automaton> Automaton for StoppableAutomaton<A> {
    type State = A::State;

    fn start(&self) -> Self::State {
        self.inner.start()
    }

    fn is_match(&self, state: &Self::State) -> bool {
        self.inner.is_match(state)
    }

    fn can_match(&self, state: &Self::State) -> bool {
        !self.cancel.is_cancelled() && self.inner.can_match(state)
    }

    fn will_always_match(&self, state: &Self::State) -> bool {
        !self.cancel.is_cancelled() && self.inner.will_always_match(state)
    }

    fn accept(&self, state: &Self::State, byte: u8) -> Self::State {
        self.inner.accept(state, byte)
    }
}

/// tantivy's `RegexQuery`, stopped by `Cancel`.
#[derive(Debug, Clone)]
pub struct StoppableRegexQuery {
    automaton: Arc<StoppableAutomaton<Regex>>,
    field: Field,
}

impl StoppableRegexQuery {
    pub fn new(pattern: &str, field: Field, cancel: &Cancel) -> Result<Self, String> {
        let regex = Regex::new(pattern).map_err(|e| e.to_string())?;
        Ok(StoppableRegexQuery {
            automaton: Arc::new(StoppableAutomaton {
                inner: regex,
                cancel: cancel.clone(),
            }),
            field,
        })
    }
}

impl Query for StoppableRegexQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AutomatonWeight::<StoppableAutomaton<Regex>>::new(
            self.field,
            self.automaton.clone(),
        )))
    }
}

/// Wraps a whole query: no segment starts once cancelled, and matching documents stop
/// flowing soon after.
#[derive(Debug)]
pub struct Stoppable {
    inner: Box<dyn Query>,
    cancel: Cancel,
}

impl Clone for Stoppable {
    fn clone(&self) -> Self {
        Stoppable {
            inner: self.inner.box_clone(),
            cancel: self.cancel.clone(),
        }
    }
}

impl Stoppable {
    pub fn new(inner: Box<dyn Query>, cancel: &Cancel) -> Self {
        Stoppable {
            inner,
            cancel: cancel.clone(),
        }
    }
}

impl Query for Stoppable {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(StoppableWeight {
            inner: self.inner.weight(scoring)?,
            cancel: self.cancel.clone(),
        }))
    }
}

struct StoppableWeight {
    inner: Box<dyn Weight>,
    cancel: Cancel,
}

impl Weight for StoppableWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.cancel.check()?;
        let inner = self.inner.scorer(reader, boost)?;
        self.cancel.check()?;
        Ok(Box::new(StoppableScorer {
            inner,
            cancel: self.cancel.clone(),
            steps: 0,
            stopped: false,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.inner.explain(reader, doc)
    }
}

struct StoppableScorer {
    inner: Box<dyn Scorer>,
    cancel: Cancel,
    steps: u32,
    stopped: bool,
}

impl DocSet for StoppableScorer {
    fn advance(&mut self) -> DocId {
        self.steps = self.steps.wrapping_add(1);
        if self.steps.is_multiple_of(CHECK_EVERY) && self.cancel.is_cancelled() {
            self.stopped = true;
        }
        if self.stopped {
            return TERMINATED;
        }
        self.inner.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.stopped {
            return TERMINATED;
        }
        self.inner.seek(target)
    }

    fn doc(&self) -> DocId {
        if self.stopped {
            return TERMINATED;
        }
        self.inner.doc()
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint()
    }
}

impl Scorer for StoppableScorer {
    fn score(&mut self) -> Score {
        self.inner.score()
    }
}
