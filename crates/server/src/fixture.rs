//! The built-in fixture: fixed tenants and API clients, documented in the README so that
//! anyone can point a client at the reference server.

use reportcheck_model::{Id, Secret};
use serde::Serialize;

/// A tenant of the fixture's tree.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: Id,
    pub name: &'static str,
    pub parent: Option<Id>,
}

/// An API client and its credentials.
#[derive(Debug, Clone, Serialize)]
pub struct ClientCredentials {
    pub client_id: Id,
    /// Serialised as the value itself: `--fixture-out` must hand it to the harness.
    pub client_secret: Secret,
    pub tenant_id: Id,
}

/// Tenant A (the seed page's tenant) with a child tenant, an unrelated tenant B, and one
/// API client for A and one for B.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub tenants: Vec<Tenant>,
    pub clients: Vec<ClientCredentials>,
}

fn id(text: &str) -> Id {
    // The literals below are canonical UUIDs; a typo is caught by the fixture test.
    text.parse().unwrap_or_else(|_| Id::from_uuid(Default::default()))
}

impl Fixture {
    pub const TENANT_A: &'static str = "ede9f834-70b3-476c-83d9-736f9f8c7dae";
    pub const TENANT_A_CHILD: &'static str = "3f0c9a52-6a8e-4d3b-9b41-7c2e5d8a1f60";
    pub const TENANT_B: &'static str = "9d2b7e14-2c5f-4a88-b0d6-41e3f7a9c215";
    pub const CLIENT_A: &'static str = "0a6f3c1e-58b2-4d97-a3e0-6c9d2b4f7e18";
    pub const CLIENT_A_SECRET: &'static str = "reportcheck-secret-tenant-a";
    pub const CLIENT_B: &'static str = "7c41e0d9-3b6a-4f25-8e17-d2a5c9b0f346";
    pub const CLIENT_B_SECRET: &'static str = "reportcheck-secret-tenant-b";

    pub fn builtin() -> Fixture {
        let a = id(Fixture::TENANT_A);
        let b = id(Fixture::TENANT_B);
        Fixture {
            tenants: vec![
                Tenant { id: a, name: "Tenant A", parent: None },
                Tenant { id: id(Fixture::TENANT_A_CHILD), name: "Tenant A / customer 1", parent: Some(a) },
                Tenant { id: b, name: "Tenant B", parent: None },
            ],
            clients: vec![
                ClientCredentials {
                    client_id: id(Fixture::CLIENT_A),
                    client_secret: Secret::new(Fixture::CLIENT_A_SECRET),
                    tenant_id: a,
                },
                ClientCredentials {
                    client_id: id(Fixture::CLIENT_B),
                    client_secret: Secret::new(Fixture::CLIENT_B_SECRET),
                    tenant_id: b,
                },
            ],
        }
    }

    pub fn tenant(&self, id: Id) -> Option<&Tenant> {
        self.tenants.iter().find(|tenant| tenant.id == id)
    }

    pub fn client(&self, id: Id) -> Option<&ClientCredentials> {
        self.clients.iter().find(|client| client.client_id == id)
    }

    /// Whether `tenant` is `ancestor` or lies below it.
    pub fn is_within(&self, tenant: Id, ancestor: Id) -> bool {
        let mut current = Some(tenant);
        while let Some(id) = current {
            if id == ancestor {
                return true;
            }
            current = self.tenant(id).and_then(|tenant| tenant.parent);
        }
        false
    }

    /// The tenants at or below `root`, `root` first.
    pub fn subtree(&self, root: Id) -> Vec<&Tenant> {
        self.tenants.iter().filter(|tenant| self.is_within(tenant.id, root)).collect()
    }
}

/// What `cargo xtask serve --fixture-out` writes: the base URL and every client.
#[derive(Debug, Clone, Serialize)]
pub struct FixtureFile<'a> {
    pub base_url: &'a str,
    pub clients: &'a [ClientCredentials],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_canonical_and_the_tree_holds() {
        for text in
            [Fixture::TENANT_A, Fixture::TENANT_A_CHILD, Fixture::TENANT_B, Fixture::CLIENT_A, Fixture::CLIENT_B]
        {
            assert!(text.parse::<Id>().is_ok(), "{text}");
        }
        let fixture = Fixture::builtin();
        let [a, child, b] = [&fixture.tenants[0], &fixture.tenants[1], &fixture.tenants[2]].map(|tenant| tenant.id);
        assert!(fixture.is_within(child, a));
        assert!(!fixture.is_within(a, child));
        assert!(!fixture.is_within(b, a));
        assert_eq!(fixture.subtree(a).len(), 2);
    }
}
