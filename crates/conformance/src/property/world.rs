//! One sequence against a live server. Before each request the model decides what a
//! conformant server answers, from what this sequence knows of its reports; the answer
//! is judged against the decision, and the known state follows what the server did, so a
//! departure is reported once and the sequence goes on to find others.

use std::collections::{BTreeMap, BTreeSet};

use reportcheck_client::RawRequest;
use reportcheck_model::classes::{self, Before, Class, Form, Observation};
use reportcheck_model::decide::{self, Admissible, Caller, Decision, Known, Request, StoredExpectation};
use reportcheck_model::{
    Date, Id, Period, PutParameters, PutSchedule, Report, ReportPut, Rule, StoredReportList, UuidList,
};
use serde_json::Value;
use time::Duration;

use super::generate::{Attempt, FixedPick, Op, PutSpec, RecipientsPick, SLOTS, VersionPick};
use crate::contract::{Case, Party};
use crate::error::Error;
use crate::session::{Session, Side};

/// An answer that departs from the model's decision.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: Rule,
    pub message: String,
}

/// One request as sent, with the decision it was judged by (for the replayable contract).
#[derive(Debug, Clone)]
pub struct Sent {
    pub party: Party,
    pub method: reqwest::Method,
    /// The concrete path, for curl.
    pub path: String,
    /// The path with `{{r0}}`-style variables, for the contract.
    pub template: String,
    pub body: Option<Value>,
    pub status: u16,
    pub decision: Decision,
    /// The label of the report this request created (for captures).
    pub creates: Option<String>,
    /// The answer as it came (its body shared, not copied), shown redacted only when the
    /// sequence fails (a failure's numbered steps).
    pub answer: Option<reportcheck_client::RawResponse>,
}

/// What a sequence knows and found.
pub struct World<'s> {
    session: &'s Session,
    today: Date,
    tenant: Id,
    /// A tenant below `tenant` (`--child-tenant`), which the sequence may work in too.
    child: Option<Id>,
    recipients: [Id; 2],
    reports: BTreeMap<Id, Report>,
    /// The last write each report saw (the class map's "write before").
    before: BTreeMap<Id, Before>,
    slots: [Option<Id>; SLOTS],
    deleted: Vec<Id>,
    /// Every report the server accepted, for cleanup and for replay labels.
    labels: BTreeMap<Id, String>,
    pub sent: Vec<Sent>,
    pub findings: Vec<Finding>,
    pub exercised: BTreeSet<(Rule, Case)>,
    /// The classes of the map the requests fell in, with how many each.
    pub reached: BTreeMap<Class, u32>,
}

impl Known for World<'_> {
    fn report(&self, id: Id) -> Option<&Report> {
        self.reports.get(&id)
    }

    /// A sequence works in the first client's tenant and the child tenant it was given;
    /// any other tenant is outside.
    fn is_within(&self, tenant: Id, caller: Id) -> bool {
        tenant == caller || (caller == self.tenant && Some(tenant) == self.child)
    }
}

impl<'s> World<'s> {
    pub fn new(session: &'s Session, tenant: Id, recipients: [Id; 2]) -> World<'s> {
        World {
            session,
            today: session.today,
            tenant,
            child: session.child_tenant,
            recipients,
            reports: BTreeMap::new(),
            before: BTreeMap::new(),
            slots: Default::default(),
            deleted: Vec::new(),
            labels: BTreeMap::new(),
            sent: Vec::new(),
            findings: Vec::new(),
            exercised: BTreeSet::new(),
            reached: BTreeMap::new(),
        }
    }

    fn caller(&self, tenant: Id) -> Caller {
        Caller { tenant, today: self.today }
    }

    /// The decider's verdict on `request` by `tenant`'s client, and the classes of the
    /// map it falls in (`report` is the report it goes to, for the write before).
    fn decide(&self, tenant: Id, request: Request<'_>, report: Option<Id>) -> (Admissible, Observation) {
        let before = report.and_then(|id| self.before.get(&id).copied());
        let caller = self.caller(tenant);
        (decide::decide(self, caller, request), classes::observe(self, caller, request, before))
    }

    /// Records the write `report` saw: accepted or not, by what its status says.
    fn wrote(&mut self, report: Id, observation_op: Option<classes::Op>, status: u16) {
        if let Some(before) = observation_op.and_then(|op| Before::after(op, (200..300).contains(&status))) {
            self.before.insert(report, before);
        }
    }

    fn current(&self, slot: usize) -> Option<Report> {
        self.slots[slot].and_then(|id| self.reports.get(&id)).cloned()
    }

    fn find(&mut self, rule: Rule, message: String) {
        let message = self.session.redact(&message);
        self.findings.push(Finding { rule, message });
    }

    pub async fn run(&mut self, op: &Op) -> Result<(), Error> {
        match op {
            Op::Create { slot, body } => self.create(*slot, body).await,
            Op::Update { slot, put } => self.update(*slot, put).await,
            Op::Get { slot } => match self.current(*slot) {
                Some(report) => self.verify(report.id, None).await,
                None => Ok(()),
            },
            Op::Delete { slot, version } => self.delete(*slot, *version).await,
            Op::List => self.list(self.tenant).await,
            Op::ListChild => match self.child {
                Some(child) => self.list(child).await,
                None => Ok(()),
            },
            Op::Set { slot, field, form, verify } => self.set(*slot, *field, *form, *verify).await,
            Op::Toggle { slot } => match self.current(*slot) {
                Some(current) => {
                    let body = serde_json::json!({"schedule": {"enabled": !current.schedule.enabled}});
                    self.put(current, body, true).await
                }
                None => Ok(()),
            },
            Op::Stored { slot } => self.stored(*slot).await,
            Op::Foreign { slot, attempt } => self.foreign(*slot, *attempt).await,
        }
    }

    /// Sends a request, records it, finds the admissible branch its answer took and
    /// judges the answer against that branch's claims (and the error code of a refusal).
    /// Returns the status, the JSON answer and the branch, which what follows holds the
    /// server to.
    async fn exchange(
        &mut self,
        party: Party,
        request: RawRequest,
        body: Option<Value>,
        (admissible, observation): (Admissible, Observation),
    ) -> Result<(u16, Option<Value>, Decision), Error> {
        let side: &Side = match party {
            Party::A => &self.session.a,
            Party::B => self.session.b.as_ref().ok_or_else(|| Error::Options("no second client".to_owned()))?,
        };
        let response = match self.session.send(side, &request).await {
            Ok(response) => response,
            // A finding of the rule the request checks; the sequence ends here (what the
            // server did with it is unknown), the run goes on.
            Err(Error::Unanswered(what)) => {
                self.find(admissible.reference().rule(), format!("no answer to {what}"));
                return Err(Error::Unanswered(what));
            }
            Err(err) => return Err(err),
        };
        let status = response.status.as_u16();
        let answer: Option<Value> = serde_json::from_slice(&response.body).ok();
        for class in observation.classes() {
            *self.reached.entry(class).or_default() += 1;
        }
        let decision = admissible.follow(status).clone();
        if let Some(problem) = &response.body_problem {
            // The answer is judged as the partial body it is; the broken body itself is
            // a finding of its own.
            let rule = if status >= 400 { Rule::Err1 } else { decision.rule() };
            self.find(rule, format!("{} {} answered {status}, but {problem}", request.method, request.path));
        }
        self.judge(&admissible, &decision, status, answer.as_ref());
        let path = request.path.clone();
        let template = self.template(&path);
        let sent = Sent {
            party,
            method: request.method,
            path,
            template,
            body,
            status,
            decision,
            creates: None,
            answer: Some(response),
        };
        let decision = sent.decision.clone();
        self.sent.push(sent);
        Ok((status, answer, decision))
    }

    fn judge(&mut self, admissible: &Admissible, decision: &Decision, status: u16, answer: Option<&Value>) {
        let judged =
            crate::verdict::judge(admissible, decision, status, answer, &|value| self.session.redact_json(value));
        self.exercised.extend(judged.exercised);
        for (rule, message) in judged.findings {
            self.find(rule, message);
        }
    }

    /// Follows what the server did: a report it answered with becomes the known state.
    fn adopt(&mut self, status: u16, answer: Option<&Value>, slot: Option<usize>) -> Option<Report> {
        let report = answer
            .filter(|_| (200..300).contains(&status))
            .and_then(|answer| serde_json::from_value::<Report>(answer.clone()).ok())?;
        if let Some(slot) = slot {
            self.slots[slot] = Some(report.id);
        }
        let next = self.labels.len();
        self.labels.entry(report.id).or_insert_with(|| format!("r{next}"));
        self.reports.insert(report.id, report.clone());
        Some(report)
    }

    fn template(&self, path: &str) -> String {
        let mut template = path.to_owned();
        for (id, label) in &self.labels {
            template = template.replace(&id.to_string(), &format!("{{{{{label}}}}}"));
        }
        template
    }

    async fn create(&mut self, slot: usize, body: &Value) -> Result<(), Error> {
        let bytes = body.to_string();
        let decision = self.decide(
            self.tenant,
            Request::Create { content_type: Some("application/json"), body: bytes.as_bytes() },
            None,
        );
        let request = RawRequest::new(reqwest::Method::POST, "/reports").json(body);
        let (status, answer, _) = self.exchange(Party::A, request, Some(body.clone()), decision).await?;
        if let Some(report) = self.adopt(status, answer.as_ref(), Some(slot)) {
            self.before.insert(report.id, Before::Created);
            if let Some(sent) = self.sent.last_mut() {
                sent.creates = self.labels.get(&report.id).cloned();
            }
        }
        Ok(())
    }

    async fn update(&mut self, slot: usize, spec: &PutSpec) -> Result<(), Error> {
        let Some(current) = self.current(slot) else { return Ok(()) };
        let body = self.put_body(spec, &current);
        self.put(current, body, true).await
    }

    /// A PUT of one field of the class map in one form.
    async fn set(&mut self, slot: usize, field: Option<&'static str>, form: Form, verify: bool) -> Result<(), Error> {
        let Some(current) = self.current(slot) else { return Ok(()) };
        let body = classes::body_with(
            classes::Op::Update,
            field,
            form,
            self.tenant,
            self.today,
            self.recipients,
            Some(&current),
        );
        match body {
            Some(body) => self.put(current, body, verify).await,
            None => Ok(()),
        }
    }

    /// Sends `body` as a PUT to `current`, then (with `verify`) reads the report back.
    async fn put(&mut self, current: Report, body: Value, verify: bool) -> Result<(), Error> {
        let bytes = body.to_string();
        let id = current.id.to_string();
        let decision = self.decide(
            self.tenant,
            Request::Update { id: &id, content_type: Some("application/json"), body: bytes.as_bytes() },
            Some(current.id),
        );
        let op = decision.1.op;
        let request = RawRequest::new(reqwest::Method::PUT, format!("/reports/{id}")).json(&body);
        let (status, answer, taken) = self.exchange(Party::A, request, Some(body), decision).await?;
        self.wrote(current.id, op, status);
        // A refusal promised that nothing changes, under the rule the server refused by
        // (the first its status admits).
        let refused_by = taken.violations().iter().find(|violation| violation.admits_status(status));
        let unchanged_rule = refused_by.or(taken.violations().first()).map(|violation| violation.rule);
        self.adopt(status, answer.as_ref(), None);
        if verify { self.verify(current.id, unchanged_rule).await } else { Ok(()) }
    }

    /// GET after a write: the report as the known state has it. `unchanged` names the
    /// rule of a refused write, which promised that nothing changes.
    async fn verify(&mut self, id: Id, unchanged: Option<Rule>) -> Result<(), Error> {
        let text = id.to_string();
        let decision = self.decide(self.tenant, Request::Get { id: &text }, Some(id));
        let findings = self.findings.len();
        let request = RawRequest::new(reqwest::Method::GET, format!("/reports/{id}"));
        let (status, answer, taken) = self.exchange(Party::A, request, None, decision).await?;
        // A read served as the rules say whose report differs breaks the refusal's
        // promise; a read refused is a failure of the read itself.
        if let Some(rule) = unchanged.filter(|_| taken.admits_status(status)) {
            for finding in &mut self.findings[findings..] {
                finding.message = format!("after a refused request: {}", finding.message);
                finding.rule = rule;
            }
        }
        if status == 404 {
            self.reports.remove(&id);
        } else {
            self.adopt(status, answer.as_ref(), None);
        }
        Ok(())
    }

    async fn delete(&mut self, slot: usize, pick: VersionPick) -> Result<(), Error> {
        let Some(current) = self.current(slot) else { return Ok(()) };
        let version = match pick {
            VersionPick::Current => Some(current.version.to_string()),
            VersionPick::Stale => Some((current.version - 1).to_string()),
            VersionPick::Ahead => Some((current.version + 1).to_string()),
            VersionPick::Missing => None,
            VersionPick::NotANumber => Some("latest".to_owned()),
        };
        let id = current.id.to_string();
        let decision =
            self.decide(self.tenant, Request::Delete { id: &id, version: version.as_deref() }, Some(current.id));
        let op = decision.1.op;
        let path = match &version {
            Some(version) => format!("/reports/{id}?version={version}"),
            None => format!("/reports/{id}"),
        };
        let (status, _, taken) =
            self.exchange(Party::A, RawRequest::new(reqwest::Method::DELETE, path), None, decision).await?;
        self.wrote(current.id, op, status);
        let deleted = matches!(taken, Decision::Deleted { .. });
        let rule = taken.rule();
        if (200..300).contains(&status) {
            self.reports.remove(&current.id);
            self.deleted.push(current.id);
            self.slots[slot] = None;
        }
        if deleted {
            // DEL-1: afterwards GET answers 404.
            let findings = self.findings.len();
            self.verify(current.id, None).await?;
            for finding in &mut self.findings[findings..] {
                finding.rule = rule;
                finding.message = format!("after a DELETE at the current version: {}", finding.message);
            }
            Ok(())
        } else {
            self.verify(current.id, Some(rule)).await
        }
    }

    /// LST-1 on `tenant`'s list: the reports of that tenant this sequence knows are in
    /// it, those it deleted are not (others, a child tenant's among them, are free).
    async fn list(&mut self, tenant: Id) -> Result<(), Error> {
        let text = tenant.to_string();
        let decision = self.decide(self.tenant, Request::List { tenant: &text }, None);
        let listed = matches!(decision.0.reference(), Decision::Listed { .. });
        let rule = decision.0.rule();
        let request = RawRequest::new(reqwest::Method::GET, format!("/tenants/{text}/reports"));
        let (status, answer, _) = self.exchange(Party::A, request, None, decision).await?;
        if !listed || status != 200 {
            return Ok(());
        }
        match answer.and_then(|answer| serde_json::from_value::<UuidList>(answer).ok()) {
            Some(list) => {
                let present: Vec<Id> = self
                    .reports
                    .values()
                    .filter(|report| report.parameters.tenant_id == tenant)
                    .map(|report| report.id)
                    .collect();
                if let Some(violation) = decide::list_discrepancies(&present, &self.deleted, &list.items) {
                    self.find(violation.rule, violation.message);
                }
            }
            None => self.find(rule, "the tenant list is not {\"items\": [...]}".to_owned()),
        }
        Ok(())
    }

    async fn stored(&mut self, slot: usize) -> Result<(), Error> {
        let Some(current) = self.current(slot) else { return Ok(()) };
        let id = current.id.to_string();
        let decision = self.decide(self.tenant, Request::Stored { id: &id }, Some(current.id));
        let expectation = match decision.0.reference() {
            Decision::StoredListed { stored, .. } => stored.clone(),
            _ => StoredExpectation::Unpinned,
        };
        let rule = decision.0.rule();
        let request = RawRequest::new(reqwest::Method::GET, format!("/reports/{id}/stored"));
        let (status, answer, _) = self.exchange(Party::A, request, None, decision).await?;
        if status != 200 {
            return Ok(());
        }
        match answer.and_then(|answer| serde_json::from_value::<StoredReportList>(answer).ok()) {
            Some(list) => {
                let formats: Vec<_> = list.items.iter().map(|item| item.report_format).collect();
                if let Some(violation) = expectation.violation(&formats) {
                    self.find(violation.rule, violation.message);
                }
            }
            None => self.find(rule, "the stored list is not {\"items\": [...]}".to_owned()),
        }
        Ok(())
    }

    /// SEC-1: the second client on the first client's report; nothing may change.
    async fn foreign(&mut self, slot: usize, attempt: Attempt) -> Result<(), Error> {
        let (Some(current), Some(other)) = (self.current(slot), self.session.b.as_ref().and_then(|b| b.tenant)) else {
            return Ok(());
        };
        let id = current.id.to_string();
        let tenant = current.parameters.tenant_id.to_string();
        let stored_id = Id::new_v4().to_string();
        let version = current.version.to_string();
        let body = serde_json::json!({"parameters": {"kind": current.parameters.kind}});
        let bytes = body.to_string();
        let (request, path, body) = match attempt {
            Attempt::Get => (Request::Get { id: &id }, (reqwest::Method::GET, format!("/reports/{id}")), None),
            Attempt::Put => (
                Request::Update { id: &id, content_type: Some("application/json"), body: bytes.as_bytes() },
                (reqwest::Method::PUT, format!("/reports/{id}")),
                Some(body),
            ),
            Attempt::Delete => (
                Request::Delete { id: &id, version: Some(&version) },
                (reqwest::Method::DELETE, format!("/reports/{id}?version={version}")),
                None,
            ),
            Attempt::Stored => {
                (Request::Stored { id: &id }, (reqwest::Method::GET, format!("/reports/{id}/stored")), None)
            }
            Attempt::Download => (
                Request::Download { id: &id, stored_id: &stored_id },
                (reqwest::Method::GET, format!("/reports/{id}/stored/{stored_id}")),
                None,
            ),
            Attempt::List => {
                (Request::List { tenant: &tenant }, (reqwest::Method::GET, format!("/tenants/{tenant}/reports")), None)
            }
        };
        let decision = self.decide(other, request, Some(current.id));
        let op = decision.1.op;
        let rule = decision.0.rule();
        let mut raw = RawRequest::new(path.0, path.1);
        if let Some(body) = &body {
            raw = raw.json(body);
        }
        let (status, answer, _) = self.exchange(Party::B, raw, body, decision).await?;
        self.wrote(current.id, op, status);
        if let Some(answer) = answer.map(|answer| answer.to_string())
            && answer.contains(&format!("\"{}\"", current.parameters.kind))
            && answer.contains(&id)
        {
            self.find(rule, "the refusal carries the foreign report's data".to_owned());
        }
        self.verify(current.id, Some(rule)).await
    }

    /// The PUT body `spec` describes, against the report as known.
    fn put_body(&self, spec: &PutSpec, current: &Report) -> Value {
        let mut parameters = PutParameters { kind: spec.kind, level: spec.level, ..PutParameters::default() };
        match &spec.fixed {
            None => {}
            Some(FixedPick::SameTenant) => parameters.tenant_id = Some(current.parameters.tenant_id),
            Some(FixedPick::OtherTenant(id)) => parameters.tenant_id = Some(*id),
            Some(FixedPick::SameFormats) => parameters.formats = Some(current.parameters.formats.clone()),
            Some(FixedPick::OtherFormats(formats)) => parameters.formats = Some(formats.clone()),
            Some(FixedPick::SamePeriod) => parameters.period = Some(current.parameters.period),
            Some(FixedPick::OtherPeriod) => {
                let start = self.today - Duration::days(90);
                parameters.period = Some(Period { start, end: start + Duration::days(3) });
            }
            Some(FixedPick::HideZeroUsage(flag)) => parameters.hide_zero_usage = Some(*flag),
            Some(FixedPick::ShowSkus(flag)) => parameters.show_skus = Some(*flag),
        }
        let has_parameters = parameters != PutParameters::default();
        let put = ReportPut {
            recipients: match spec.recipients {
                RecipientsPick::Keep => None,
                RecipientsPick::One => Some(vec![self.recipients[0]]),
                RecipientsPick::Two => Some(self.recipients.to_vec()),
                RecipientsPick::Empty => Some(Vec::new()),
            },
            parameters: has_parameters.then_some(parameters),
            schedule: spec.enabled.map(|enabled| PutSchedule { enabled }),
        };
        let mut body = serde_json::to_value(&put).unwrap_or_default();
        if let Some(breakage) = &spec.breakage {
            breakage.apply(&mut body);
        }
        body
    }

    /// Deletes every report this sequence saw accepted that is still there, at the
    /// version it knows (one request each, all at once).
    pub async fn clean_up(&self) -> Result<(), Error> {
        let removals = self.labels.keys().filter(|id| !self.deleted.contains(id)).map(|id| async move {
            let a = &self.session.a;
            match self.reports.get(id) {
                Some(report) => self.session.remove_known(a, &id.to_string(), &report.version.to_string()).await,
                None => self.session.remove(a, &serde_json::json!({"id": id})).await,
            }
        });
        futures_util::future::join_all(removals).await.into_iter().collect()
    }
}
