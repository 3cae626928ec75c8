//! Compiled rules for one source, indexed by event type, evaluated per event.

use crate::eval::{FieldCache, Node};
use crate::field::FieldSource;
use crate::load::Priority;
use crate::output::OutputFormat;
use std::collections::HashMap;
use std::sync::Arc;

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledRule<F> {
    pub name: String,
    pub desc: String,
    pub priority: Priority,
    pub source: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub condition: Node<F>,
    pub output: OutputFormat<F>,
    /// The event types the condition can match; `None`: every event.
    pub evttypes: Option<Vec<u16>>,
}

/// What every alert of one rule shares: its name, source, tags and priority, shared by the
/// alerts instead of copied into each.
#[derive(Debug, Clone)]
pub struct AlertMeta {
    pub rule: Arc<str>,
    pub source: Arc<str>,
    pub tags: Arc<[String]>,
    pub priority: &'static str,
}

/// Which matching rules fire on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Matching {
    /// The first matching rule in load order (Falco's default `rule_matching: first`).
    #[default]
    First,
    /// Every matching rule (`rule_matching: all`).
    All,
}

/// The rules of one source and the source itself.
pub struct Engine<S: FieldSource> {
    source: S,
    rules: Vec<CompiledRule<S::Field>>,
    meta: Vec<AlertMeta>,
    active: Vec<usize>,
    by_type: HashMap<u16, Vec<usize>>,
    untyped: Vec<usize>,
    /// How many distinct operands the conditions read (the per-event cache's slots).
    slots: usize,
    /// How many distinct checks they make (the per-event memo's slots).
    checks: usize,
    pub matching: Matching,
}

impl<S: FieldSource> Engine<S> {
    pub fn new(source: S) -> Self {
        Engine {
            source,
            rules: Vec::new(),
            meta: Vec::new(),
            active: Vec::new(),
            by_type: HashMap::new(),
            untyped: Vec::new(),
            slots: 0,
            checks: 0,
            matching: Matching::First,
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// The source, to update between events: a stateful source (a capture's thread and fd
    /// tables) takes each event first, then the rules read it through [`Engine::process`].
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    pub fn rules(&self) -> &[CompiledRule<S::Field>] {
        &self.rules
    }

    /// How many rules run (after [`Engine::select`]).
    pub fn running(&self) -> usize {
        self.active.len()
    }

    /// The number of operand slots the compiled conditions use (each operand's
    /// [`COperand::slot`](crate::eval::COperand::slot) is below it).
    pub(crate) fn set_slots(&mut self, n: usize) {
        self.slots = n;
    }

    /// The number of distinct checks the compiled conditions make (each
    /// [`Check::memo`](crate::eval::Check::memo) is below it).
    pub(crate) fn set_checks(&mut self, n: usize) {
        self.checks = n;
    }

    /// How many distinct checks the conditions make (each evaluated at most once an event).
    pub fn checks(&self) -> usize {
        self.checks
    }

    pub(crate) fn add(&mut self, rule: CompiledRule<S::Field>) {
        self.meta.push(AlertMeta {
            rule: Arc::from(rule.name.as_str()),
            source: Arc::from(rule.source.as_str()),
            tags: Arc::from(rule.tags.as_slice()),
            priority: rule.priority.as_str(),
        });
        self.rules.push(rule);
        self.select(Priority::Debug, &[], &[]);
    }

    /// Turns off the rules whose names `off` says (Falco's `-D`); [`Engine::select`] then
    /// leaves them out.
    pub fn disable(&mut self, off: impl Fn(&str) -> bool) {
        for r in &mut self.rules {
            if off(&r.name) {
                r.enabled = false;
            }
        }
        self.select(Priority::Debug, &[], &[]);
    }

    /// Chooses the rules that run: enabled, at least as severe as `min_priority`, with one
    /// of `enable_tags` when that is not empty, and none of `disable_tags`.
    pub fn select(
        &mut self,
        min_priority: Priority,
        enable_tags: &[String],
        disable_tags: &[String],
    ) {
        self.active = (0..self.rules.len())
            .filter(|&i| {
                let r = &self.rules[i];
                r.enabled
                    && r.priority <= min_priority
                    && (enable_tags.is_empty() || r.tags.iter().any(|t| enable_tags.contains(t)))
                    && !r.tags.iter().any(|t| disable_tags.contains(t))
            })
            .collect();
        self.by_type.clear();
        self.untyped.clear();
        for &i in &self.active {
            match &self.rules[i].evttypes {
                None => self.untyped.push(i),
                Some(codes) => {
                    for &c in codes {
                        self.by_type.entry(c).or_default().push(i);
                    }
                }
            }
        }
        // Each event type's list holds its own rules and the untyped ones, in load order.
        let untyped = self.untyped.clone();
        for list in self.by_type.values_mut() {
            list.extend(untyped.iter().copied());
            list.sort_unstable();
            list.dedup();
        }
    }

    /// The rules that can match an event of this type, in load order.
    fn candidates(&self, ev: &S::Event) -> &[usize] {
        match self.source.event_type(ev) {
            Some(t) => self.by_type.get(&t).map_or(&self.untyped[..], |v| &v[..]),
            None => &self.active[..],
        }
    }

    /// Evaluates the running rules on `ev` and calls `hit` with the index of each rule that
    /// fires (only the first one under [`Matching::First`]). Returns the number that fired.
    pub fn process(&self, ev: &S::Event, hit: impl FnMut(usize)) -> usize {
        let mut cache = self.cache();
        self.process_cached(ev, &mut cache, hit)
    }

    /// An empty per-event cache of the operands' values, for [`Engine::process_cached`] and
    /// [`Engine::render_cached`].
    pub fn cache<'e>(&self) -> FieldCache<'e> {
        FieldCache::new(self.slots, self.checks)
    }

    /// [`Engine::process`], the operands' values kept in `cache` (empty, or this event's):
    /// the alerts' output can then reuse them ([`Engine::render_cached`]).
    pub fn process_cached<'e>(
        &'e self,
        ev: &'e S::Event,
        cache: &mut FieldCache<'e>,
        mut hit: impl FnMut(usize),
    ) -> usize {
        let candidates = self.candidates(ev);
        if candidates.is_empty() {
            return 0;
        }
        // Each operand's values are extracted once per event, by the first rule reading it.
        let mut n = 0;
        for &i in candidates {
            if self.rules[i].condition.eval(&self.source, ev, cache) {
                hit(i);
                n += 1;
                if self.matching == Matching::First {
                    break;
                }
            }
        }
        n
    }

    /// The rule's output rendered on `ev`, and its fields' values.
    #[allow(clippy::type_complexity)]
    pub fn render(&self, rule: usize, ev: &S::Event) -> (String, Vec<(Arc<str>, Option<String>)>) {
        self.rules[rule].output.render(&self.source, ev)
    }

    /// [`Engine::render`], the fields' values only `with_fields`.
    #[allow(clippy::type_complexity)]
    pub fn render_with(
        &self,
        rule: usize,
        ev: &S::Event,
        with_fields: bool,
    ) -> (String, Vec<(Arc<str>, Option<String>)>) {
        let mut cache = self.cache();
        self.render_cached(rule, ev, with_fields, &mut cache)
    }

    /// [`Engine::render_with`], reading the fields through the event's `cache` (those the
    /// conditions read are not extracted again).
    #[allow(clippy::type_complexity)]
    pub fn render_cached<'e>(
        &'e self,
        rule: usize,
        ev: &'e S::Event,
        with_fields: bool,
        cache: &mut FieldCache<'e>,
    ) -> (String, Vec<(Arc<str>, Option<String>)>) {
        self.rules[rule]
            .output
            .render_cached(&self.source, ev, with_fields, cache)
    }

    /// The name, source, tags and priority the alerts of `rule` carry.
    pub fn alert_meta(&self, rule: usize) -> &AlertMeta {
        &self.meta[rule]
    }
}
