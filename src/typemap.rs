//! [`TypeMap`]: a map holding at most one value of each type, used for the application's
//! shared `info` and each request's `context`.
//!
//! ```
//! use bareasgi::TypeMap;
//!
//! struct Greeting(&'static str);
//!
//! let mut map = TypeMap::new();
//! map.insert(Greeting("hello"));
//! assert_eq!(map.get::<Greeting>().map(|g| g.0), Some("hello"));
//! assert!(map.get::<u32>().is_none());
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A map from a type to one value of that type.
///
/// Unlike [`http::Extensions`], values need not be `Clone`: a connection pool or a
/// channel sender can be stored as it is. An empty map does not allocate.
///
/// Each value is kept behind an [`Arc`], so [`get_arc`](Self::get_arc) can hand out an
/// owned handle that outlives the borrow of the map (what
/// [`HttpRequest::state`](crate::HttpRequest::state) returns); it costs the same one
/// allocation per value a `Box` would.
#[derive(Default)]
pub struct TypeMap {
    // Boxed so that an empty map — every request's context, usually — is one pointer in the
    // request instead of a whole `HashMap`, which the request is moved along with.
    #[allow(clippy::box_collection)]
    map: Option<Box<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>,
}

impl TypeMap {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value`, returning the value of the same type that was there before.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) -> Option<T> {
        self.map
            .get_or_insert_with(Box::default)
            .insert(TypeId::of::<T>(), Arc::new(value))
            .and_then(unwrap_value)
    }

    /// The value of type `T`, if one was inserted.
    #[must_use]
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.map.as_ref()?.get(&TypeId::of::<T>())?.downcast_ref()
    }

    /// An owned handle on the value of type `T`, if one was inserted: it does not borrow
    /// the map, so it can be held across an `.await` that needs the map's owner mutably.
    ///
    /// ```
    /// use bareasgi::TypeMap;
    ///
    /// let mut map = TypeMap::new();
    /// map.insert(String::from("pool"));
    /// let handle = map.get_arc::<String>().unwrap();
    /// map.insert(7u32); // the map can change while the handle lives
    /// assert_eq!(handle.as_str(), "pool");
    /// ```
    #[must_use]
    pub fn get_arc<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let value = self.map.as_ref()?.get(&TypeId::of::<T>())?;
        value.clone().downcast().ok()
    }

    /// The value of type `T` for changing in place; `None` also while a handle from
    /// [`get_arc`](Self::get_arc) on it is alive, since the value is shared then.
    pub fn get_mut<T: Send + Sync + 'static>(&mut self) -> Option<&mut T> {
        let value = self.map.as_mut()?.get_mut(&TypeId::of::<T>())?;
        Arc::get_mut(value)?.downcast_mut()
    }

    /// Takes the value of type `T` out of the map. It is removed in any case; `None` is
    /// returned when there was none, or while a handle from [`get_arc`](Self::get_arc) on
    /// it is alive (the value lives on in that handle).
    pub fn remove<T: Send + Sync + 'static>(&mut self) -> Option<T> {
        self.map
            .as_mut()?
            .remove(&TypeId::of::<T>())
            .and_then(unwrap_value)
    }

    /// Whether a value of type `T` is present.
    #[must_use]
    pub fn contains<T: Send + Sync + 'static>(&self) -> bool {
        self.map
            .as_ref()
            .is_some_and(|map| map.contains_key(&TypeId::of::<T>()))
    }

    /// How many values the map holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.as_ref().map_or(0, |map| map.len())
    }

    /// Whether the map holds no value.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value out of its `Arc` when no handle shares it.
fn unwrap_value<T: Send + Sync + 'static>(value: Arc<dyn Any + Send + Sync>) -> Option<T> {
    Arc::into_inner(value.downcast::<T>().ok()?)
}

impl fmt::Debug for TypeMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypeMap").field("len", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::TypeMap;

    #[test]
    fn insert_replaces_and_returns_the_old_value() {
        let mut map = TypeMap::new();
        assert_eq!(map.insert(1u8), None);
        assert_eq!(map.insert(2u8), Some(1));
        assert_eq!(map.get::<u8>(), Some(&2));
        *map.get_mut::<u8>().unwrap() += 1;
        assert_eq!(map.remove::<u8>(), Some(3));
        assert!(map.is_empty());
    }

    #[test]
    fn values_of_different_types_live_side_by_side() {
        let mut map = TypeMap::new();
        map.insert(7u32);
        map.insert(String::from("seven"));
        assert_eq!(map.len(), 2);
        assert!(map.contains::<u32>());
        assert_eq!(map.get::<String>().map(String::as_str), Some("seven"));
        assert!(!map.contains::<u64>());
    }

    #[test]
    fn a_shared_value_cannot_be_changed_in_place_or_taken_out() {
        let mut map = TypeMap::new();
        map.insert(1u8);
        let handle = map.get_arc::<u8>().unwrap();
        assert!(
            map.get_mut::<u8>().is_none(),
            "changing it would change the handle too"
        );
        drop(handle);
        *map.get_mut::<u8>().unwrap() += 1;
        let handle = map.get_arc::<u8>().unwrap();
        assert_eq!(map.remove::<u8>(), None);
        assert!(!map.contains::<u8>());
        assert_eq!(*handle, 2);
    }
}
