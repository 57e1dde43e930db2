//! Per-route access requirements: every route declares the role it needs.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wk_auth::{Identity, OrgRole};

use crate::ApiError;
use crate::authn::MaybeIdentity;

/// What a route requires of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in user (session or basic auth), not an API token.
    User,
    /// At least Viewer in the organization acted in.
    Viewer,
    /// At least Editor in the organization acted in.
    Editor,
    /// Admin of the organization acted in.
    Admin,
    /// A server administrator.
    ServerAdmin,
}

impl Need {
    /// Checks an identity against the requirement: 401 without one, 403 when it falls short.
    pub fn check(self, identity: Option<&Identity>) -> Result<(), ApiError> {
        let id = match (self, identity) {
            (Need::Public, _) => return Ok(()),
            (_, None) => return Err(ApiError::unauthorized("Unauthorized")),
            (_, Some(id)) => id,
        };
        let ok = match self {
            Need::Public => true,
            Need::User => id.user.is_some(),
            Need::Viewer => id.has_role(OrgRole::Viewer),
            Need::Editor => id.has_role(OrgRole::Editor),
            Need::Admin => id.has_role(OrgRole::Admin),
            Need::ServerAdmin => id.is_server_admin,
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "Permission denied: requires {}",
                self.describe()
            )))
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Need::Public => "nothing",
            Need::User => "a signed-in user",
            Need::Viewer => "the Viewer role",
            Need::Editor => "the Editor role",
            Need::Admin => "the Admin role",
            Need::ServerAdmin => "a server administrator",
        }
    }
}

/// Middleware enforcing `need` before the handler runs.
pub(crate) async fn require(need: Need, req: Request, next: Next) -> Response {
    let identity = req
        .extensions()
        .get::<MaybeIdentity>()
        .and_then(|m| m.0.as_ref());
    if let Err(e) = need.check(identity) {
        return e.into_response();
    }
    next.run(req).await
}

/// Extracts the identity of a request that passed a non-public requirement.
pub(crate) struct Caller(pub Identity);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<MaybeIdentity>()
            .and_then(|m| m.0.clone())
            .map(Caller)
            .ok_or_else(|| ApiError::unauthorized("Unauthorized"))
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<MaybeIdentity>()
            .and_then(|m| m.0.clone())
            .map(Caller))
    }
}

impl Caller {
    /// The user behind the request; routes with `Need::User` always have one.
    pub(crate) fn user(&self) -> Result<&wk_store::User, ApiError> {
        self.0
            .user
            .as_ref()
            .ok_or_else(|| ApiError::forbidden("this endpoint needs a user, not an API token"))
    }
}
