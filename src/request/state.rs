//! [`HttpRequest::state`]: the application's shared values as owned handles.

use std::any::type_name;
use std::sync::Arc;

use super::HttpRequest;
use crate::error::HttpError;

impl HttpRequest {
    /// The value of type `T` the application put in [`info`](Self::info) (with
    /// `app.info.insert(..)` or in a startup handler), as an owned handle: unlike
    /// `req.info.get::<T>()` it does not borrow the request, so the body can be read while
    /// it is held. A value inserted as an `Arc<T>` is found too.
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use bareasgi::{Application, HttpError, HttpRequest};
    ///
    /// struct Notes(Mutex<Vec<String>>);
    ///
    /// async fn add_note(mut req: HttpRequest) -> Result<String, HttpError> {
    ///     let notes = req.state::<Notes>()?;
    ///     let note = req.text().await?; // needs `&mut req` while `notes` is held
    ///     let mut notes = notes.0.lock().unwrap();
    ///     notes.push(note);
    ///     Ok(format!("{} notes", notes.len()))
    /// }
    ///
    /// let mut app = Application::new();
    /// app.info.insert(Notes(Mutex::new(Vec::new())));
    /// app.http_router.add(["POST"], "/notes", add_note);
    /// ```
    ///
    /// # Errors
    /// When `info` holds no `T` — a mistake in the application, not the client's — an
    /// [`HttpError`] answering `500 Internal Server Error`; the log line names the missing
    /// type.
    // The error is the crate's usual handler error, so `?` works in any handler returning
    // `Result<_, HttpError>`; its size only matters on the (cold) path of a missing type.
    #[allow(clippy::result_large_err)]
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<Arc<T>, HttpError> {
        if let Some(value) = self.info.get_arc::<T>() {
            return Ok(value);
        }
        if let Some(value) = self.info.get::<Arc<T>>() {
            return Ok(value.clone());
        }
        tracing::error!(
            state = type_name::<T>(),
            "req.state::<{}>(): the application has no value of this type; insert one with \
             app.info.insert(..) before serving",
            type_name::<T>()
        );
        Err(HttpError::internal("Internal Server Error"))
    }
}
