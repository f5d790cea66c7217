//! Typed ids: a knowledge base's id is not a document's, so passing one where the other is
//! expected, or swapping two in a call, does not compile. The wire and the database still see
//! a plain UUID.
//!
//! Handlers keep `Path<Uuid>` (utoipa documents path parameters from primitive types only) and
//! name the type once, where the path is taken apart; from there on the services carry it.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The id of a row of entity `E`.
pub struct Id<E> {
    uuid: Uuid,
    of: PhantomData<fn() -> E>,
}

pub type KnowledgeBaseId = Id<entity::knowledge_base::Entity>;
pub type DocumentId = Id<entity::document::Entity>;

impl<E> Id<E> {
    pub const fn new(uuid: Uuid) -> Self {
        Self { uuid, of: PhantomData }
    }

    pub const fn uuid(self) -> Uuid {
        self.uuid
    }
}

// Written out rather than derived: a derive would demand the same traits of `E`.
impl<E> Clone for Id<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Id<E> {}

impl<E> PartialEq for Id<E> {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}

impl<E> Eq for Id<E> {}

impl<E> PartialEq<Uuid> for Id<E> {
    fn eq(&self, other: &Uuid) -> bool {
        self.uuid == *other
    }
}

impl<E> Hash for Id<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.uuid.hash(state);
    }
}

impl<E> fmt::Debug for Id<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.uuid, f)
    }
}

impl<E> fmt::Display for Id<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.uuid, f)
    }
}

impl<E> From<Id<E>> for Uuid {
    fn from(id: Id<E>) -> Self {
        id.uuid
    }
}

/// So that `Column::KbId.eq(kb_id)` reads as it did with a bare UUID.
impl<E> From<Id<E>> for sea_orm::Value {
    fn from(id: Id<E>) -> Self {
        id.uuid.into()
    }
}

impl<E> Serialize for Id<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.uuid.serialize(serializer)
    }
}

impl<'de, E> Deserialize<'de> for Id<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Uuid::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_uuid_on_the_wire_and_in_the_database() {
        let uuid = Uuid::now_v7();
        let id = DocumentId::new(uuid);
        assert_eq!(serde_json::to_value(id).unwrap(), serde_json::json!(uuid.to_string()));
        assert_eq!(serde_json::from_value::<DocumentId>(serde_json::json!(uuid.to_string())).unwrap(), id);
        assert_eq!(sea_orm::Value::from(id), sea_orm::Value::from(uuid));
        assert_eq!(Uuid::from(id), uuid);
    }
}
