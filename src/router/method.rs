//! [`IntoMethod`]: the forms a route's methods may be given in.

use http::Method;

use super::RouteError;

/// A method given to [`HttpRouter::add`](super::HttpRouter::add): `&str`, `String` or [`Method`].
pub trait IntoMethod {
    /// The method.
    ///
    /// # Errors
    /// [`RouteError::Method`] when the text is not an HTTP method token.
    fn into_method(self) -> Result<Method, RouteError>;
}

impl IntoMethod for Method {
    fn into_method(self) -> Result<Method, RouteError> {
        Ok(self)
    }
}

impl IntoMethod for &Method {
    fn into_method(self) -> Result<Method, RouteError> {
        Ok(self.clone())
    }
}

impl IntoMethod for &str {
    fn into_method(self) -> Result<Method, RouteError> {
        let method = Method::from_bytes(self.as_bytes()).map_err(|_| RouteError::Method {
            method: self.to_owned(),
            problem: "not a valid HTTP method token".into(),
        })?;
        // Methods are case-sensitive: "get" would be a different, never-used method.
        let upper = self.to_ascii_uppercase();
        if upper != self && Method::from_bytes(upper.as_bytes()).is_ok_and(|m| is_standard(&m)) {
            return Err(RouteError::Method {
                method: self.to_owned(),
                problem: format!("methods are case-sensitive; did you mean {upper:?}?"),
            });
        }
        Ok(method)
    }
}

impl IntoMethod for String {
    fn into_method(self) -> Result<Method, RouteError> {
        self.as_str().into_method()
    }
}

fn is_standard(method: &Method) -> bool {
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::PATCH,
        Method::TRACE,
    ]
    .contains(method)
}
