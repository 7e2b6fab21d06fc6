//! What a check that works alone knows: at most one report of its own, in the first
//! client's tenant; any other tenant is outside. The decider's view for the parallel-
//! update check and the fixed sweeps.

use reportcheck_model::decide::Known;
use reportcheck_model::{Id, Report};

pub(crate) struct OwnReport<'k>(pub(crate) Option<&'k Report>);

impl Known for OwnReport<'_> {
    fn report(&self, id: Id) -> Option<&Report> {
        self.0.filter(|report| report.id == id)
    }

    fn is_within(&self, tenant: Id, caller: Id) -> bool {
        tenant == caller
    }
}
