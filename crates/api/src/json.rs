//! A JSON body extractor whose rejections are JSON errors that name the problem.

use axum::extract::{FromRequest, Request, rejection::JsonRejection};
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Like `axum::Json`, but a bad body answers 400 `{"message": "bad request data: ..."}`.
pub(crate) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::bad_request(format!(
                "bad request data: {}",
                e.body_text()
            ))),
            Err(e) => Err(ApiError::new(
                e.status(),
                format!("bad request data: {}", e.body_text()),
            )),
        }
    }
}
