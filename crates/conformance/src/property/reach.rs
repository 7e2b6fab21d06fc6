//! Reach by construction: short operation chains, built from the model's class map, that
//! send at least one request in every class of it every run, whatever the seed. The
//! generated sequences add depth on top; `--cases` is never needed for coverage.
//!
//! - every field of a create and of an update in every form of the map;
//! - every update field and form on a report in each state, as a covering array: each
//!   (field, form) goes to a `once`, a `monthly` and a due report, whose flag and action
//!   rotate with the field's index, so every pair of a field's form with a state (and
//!   every pair of two states) is sent;
//! - every operation on a report in each state, after each kind of write, by each
//!   caller the API lets a request name (a child tenant's only with `--child-tenant`);
//! - the checks whose verdict depends on nobody else writing (the tenant list after each
//!   write) as [`quiet`] chains, which the run sends when nothing else is in flight.
//!
//! Each chain runs through the same [`super::world::World`] as a generated sequence: the
//! decider judges every answer, and every request is counted under its classes.

use reportcheck_model::classes::{self, Before, Class, Form, Op as ClassOp, State};
use reportcheck_model::{Date, Id};
use serde_json::{Value, json};
use time::Duration;

use super::generate::{Attempt, Op, VersionPick};

/// Rows of the same report state sent on one report, one after the other: short chains
/// keep the critical path short over a slow network.
const ROWS_PER_CHAIN: usize = 6;

/// What the chains are built for.
#[derive(Debug, Clone, Copy)]
pub struct Ground {
    pub tenant: Id,
    pub child: Option<Id>,
    pub today: Date,
    pub recipients: [Id; 2],
    /// Whether a second client with a tenant takes part (the foreign caller).
    pub foreign: bool,
}

/// A create of a report in `state` (its schedule, flag and action).
fn create_in(ground: &Ground, tenant: Id, [schedule, flag, action]: [State; 3]) -> Op {
    let today = ground.today;
    let day = |offset: i64| reportcheck_model::date::format_day(today + Duration::days(offset));
    let send = action == State::Send;
    let mut schedule_json = json!({"type": if schedule == State::Monthly { "monthly" } else { "once" }});
    schedule_json["enabled"] = Value::Bool(flag == State::Enabled);
    let mut body = json!({
        "result_action": if send { "send" } else { "save" },
        "recipients": if send { json!([ground.recipients[0]]) } else { json!([]) },
        "parameters": {"tenant_id": tenant, "kind": "usage_daily", "level": "accounts",
            "period": {"start": day(-40), "end": day(-10)}},
        "schedule": schedule_json,
    });
    if schedule != State::Monthly {
        body["generation_date"] = json!(day(if schedule == State::Due { 0 } else { 1 }));
    }
    Op::Create { slot: 0, body }
}

/// The state combination `(schedule, flag, action)` row `row` of field-form `index` goes
/// to: the schedules in turn, flag and action rotating with the index.
fn state_of_row(index: usize, row: usize) -> [State; 3] {
    [State::SCHEDULES[row], State::FLAGS[(index + row) % 2], State::ACTIONS[(index / 2 + row) % 2]]
}

/// Every chain of the plan (sent beside the generated sequences).
pub fn plan(ground: &Ground) -> Vec<Vec<Op>> {
    let own = ground.tenant;
    let mut chains = Vec::new();
    // Every field and form of a create, eight creates to a chain.
    let creates: Vec<Op> = classes::field_forms(ClassOp::Create)
        .into_iter()
        .filter_map(|(field, form)| {
            classes::body_with(ClassOp::Create, field, form, own, ground.today, ground.recipients, None)
        })
        .map(|body| Op::Create { slot: 0, body })
        .collect();
    chains.extend(creates.chunks(8).map(<[Op]>::to_vec));
    // Every field and form of an update, on a report in each state (the covering array).
    let updates = classes::field_forms(ClassOp::Update);
    let mut by_state: Vec<([State; 3], Vec<Op>)> = Vec::new();
    for (index, (field, form)) in updates.iter().enumerate() {
        for row in 0..State::SCHEDULES.len() {
            let state = state_of_row(index, row);
            let op = Op::Set { slot: 0, field: *field, form: *form, verify: false };
            match by_state.iter_mut().find(|(at, _)| *at == state) {
                Some((_, ops)) => ops.push(op),
                None => by_state.push((state, vec![op])),
            }
        }
    }
    // The rows are not read back one by one (a row refused changes nothing, so one read
    // at the end shows a change by any): fewer round trips over a slow network.
    for (state, rows) in &by_state {
        for rows in rows.chunks(ROWS_PER_CHAIN) {
            let create = std::iter::once(create_in(ground, own, *state));
            chains.push(create.chain(rows.iter().cloned()).chain([Op::Get { slot: 0 }]).collect());
        }
    }
    // Every operation on a report in each state combination, two short chains each.
    for schedule in State::SCHEDULES {
        for flag in State::FLAGS {
            for action in State::ACTIONS {
                let create = create_in(ground, own, [schedule, flag, action]);
                // A read of its own, not the one after a refused write (whose finding the
                // refusal's promise names).
                chains.push(vec![
                    create.clone(),
                    Op::Get { slot: 0 },
                    Op::Stored { slot: 0 },
                    Op::Delete { slot: 0, version: VersionPick::Stale },
                ]);
                chains.push(vec![
                    create,
                    Op::Toggle { slot: 0 },
                    Op::Delete { slot: 0, version: VersionPick::Current },
                ]);
            }
        }
    }
    // Every operation after each kind of write.
    let scheduled = [State::Once, State::Enabled, State::Save];
    for before in Before::ALL {
        let write = match before {
            Before::Created => None,
            Before::Updated => Some(Op::Set {
                slot: 0,
                field: Some("/parameters/kind"),
                form: Form::Valid("usage_summary"),
                verify: true,
            }),
            Before::Toggled => Some(Op::Toggle { slot: 0 }),
            Before::Refused => {
                Some(Op::Set { slot: 0, field: Some("/parameters/level"), form: Form::EmptyString, verify: true })
            }
        };
        let then = [
            Op::Get { slot: 0 },
            Op::Set { slot: 0, field: Some("/parameters/level"), form: Form::Valid("all_customers"), verify: true },
            Op::Toggle { slot: 0 },
            Op::Stored { slot: 0 },
            Op::Delete { slot: 0, version: VersionPick::Stale },
            Op::Delete { slot: 0, version: VersionPick::Current },
        ];
        for op in then {
            chains.push(
                [Some(create_in(ground, own, scheduled)), write.clone(), Some(op)].into_iter().flatten().collect(),
            );
        }
    }
    // The second client on the first one's report, and on a child tenant's.
    let attempts = [Attempt::Get, Attempt::Put, Attempt::Delete, Attempt::Stored, Attempt::Download, Attempt::List];
    // One chain per attempt, each on a report of its own.
    let owners = std::iter::once(own).chain(ground.child);
    for owner in owners {
        if ground.foreign {
            for attempt in attempts {
                chains.push(vec![create_in(ground, owner, scheduled), Op::Foreign { slot: 0, attempt }]);
            }
        }
    }
    chains.push(vec![create_in(ground, own, scheduled), Op::List]);
    if let Some(child) = ground.child {
        chains.push(vec![
            create_in(ground, child, scheduled),
            Op::Set { slot: 0, field: Some("/parameters/kind"), form: Form::Valid("usage_current"), verify: true },
            Op::ListChild,
            Op::Delete { slot: 0, version: VersionPick::Current },
        ]);
    }
    chains
}

/// The chains whose verdict another writer in the same tenant could hide: a create and a
/// delete, each followed by the tenant list (a list served from a cache that only a
/// create refreshes passes while other checks create beside it). The run sends them
/// last, with nothing else in flight; each works in its own tenant, so they go together.
pub fn quiet(ground: &Ground) -> Vec<Vec<Op>> {
    let scheduled = [State::Once, State::Enabled, State::Save];
    // Only a create and a delete change what a list holds.
    let mut chains = vec![vec![
        create_in(ground, ground.tenant, scheduled),
        Op::List,
        Op::Delete { slot: 0, version: VersionPick::Current },
        Op::List,
    ]];
    if let Some(child) = ground.child {
        chains.push(vec![
            create_in(ground, child, scheduled),
            Op::ListChild,
            Op::Delete { slot: 0, version: VersionPick::Current },
            Op::ListChild,
        ]);
    }
    chains
}

/// The classes of the map a run with `ground` can reach: those needing a child tenant or
/// a foreign caller only when the run has one.
pub fn reachable(ground: &Ground) -> Vec<Class> {
    classes::map()
        .into_iter()
        .filter(|class| ground.child.is_some() || !class.needs_child())
        .filter(|class| ground.foreign || (class.who != Some(classes::Who::Foreign) && class.op != ClassOp::Download))
        .collect()
}
