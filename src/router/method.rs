//! [`IntoMethods`] and [`IntoMethod`]: the forms a route's methods may be given in.

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

/// The methods given to [`HttpRouter::add`](super::HttpRouter::add): one method (`"GET"`,
/// [`Method::GET`]) or an array, slice or `Vec` of them (`["GET", "POST"]`).
///
/// ```
/// use bareasgi::http::Method;
/// use bareasgi::{HttpRequest, HttpRouter};
///
/// async fn noop(_req: HttpRequest) {}
///
/// let mut router = HttpRouter::new();
/// router.add("GET", "/a", noop);
/// router.add(Method::PUT, "/a", noop);
/// router.add(["GET", "POST"], "/b", noop);
/// router.add(vec![Method::DELETE], "/b", noop);
/// assert_eq!(router.len(), 5);
/// ```
///
/// Other iterables are refused at compile time with a note saying what to write instead
/// (collect an iterator into a `Vec`):
///
/// ```compile_fail
/// # use bareasgi::{HttpRequest, HttpRouter};
/// # async fn noop(_req: HttpRequest) {}
/// let mut router = HttpRouter::new();
/// router.add(["GET", "POST"].into_iter(), "/", noop);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a route's methods",
    label = "not a method or a list of methods",
    note = "give one method, \"GET\" or Method::GET, or a list: [\"GET\", \"POST\"] (an array, a slice or a Vec; collect an iterator into a Vec)"
)]
pub trait IntoMethods {
    /// The methods, each checked.
    ///
    /// # Errors
    /// [`RouteError::Method`] for the first that is not an HTTP method token.
    fn into_methods(self) -> Result<Vec<Method>, RouteError>;
}

macro_rules! one_method {
    ($($one:ty),*) => {$(
        impl IntoMethods for $one {
            fn into_methods(self) -> Result<Vec<Method>, RouteError> {
                Ok(vec![self.into_method()?])
            }
        }
    )*};
}

one_method!(&str, String, Method, &Method);

impl<T: IntoMethod, const N: usize> IntoMethods for [T; N] {
    fn into_methods(self) -> Result<Vec<Method>, RouteError> {
        self.into_iter().map(IntoMethod::into_method).collect()
    }
}

impl<T: IntoMethod> IntoMethods for Vec<T> {
    fn into_methods(self) -> Result<Vec<Method>, RouteError> {
        self.into_iter().map(IntoMethod::into_method).collect()
    }
}

impl<T: IntoMethod + Clone> IntoMethods for &[T] {
    fn into_methods(self) -> Result<Vec<Method>, RouteError> {
        self.iter().cloned().map(IntoMethod::into_method).collect()
    }
}

impl<T: IntoMethod + Clone, const N: usize> IntoMethods for &[T; N] {
    fn into_methods(self) -> Result<Vec<Method>, RouteError> {
        self.as_slice().into_methods()
    }
}

impl<T: IntoMethod + Clone> IntoMethods for &Vec<T> {
    fn into_methods(self) -> Result<Vec<Method>, RouteError> {
        self.as_slice().into_methods()
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
