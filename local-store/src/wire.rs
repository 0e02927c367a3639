//! A pull's answer as the desk applies it: the protocol's `PullResponse`, with each put's row
//! already parsed into its entity. The sync client reads the server's JSON straight into this
//! form (each row into its typed entity as the text is read, no `serde_json::Value` in between);
//! [`Pull::from_response`] converts a `PullResponse` built in memory, so both go through the
//! same apply.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tourdesk_domain::protocol::{EntityKind, MutationResult, Op, PullResponse};

use crate::StoreError;
use crate::rows::Record;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Pull {
    pub buckets: Vec<Bucket>,
    pub complete: bool,
    pub last_mutation_id: u64,
    pub results: Vec<MutationResult>,
    #[serde(default)]
    pub removed_buckets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Bucket {
    pub bucket: String,
    pub changes: Vec<Change>,
    pub cursor: u64,
    #[serde(default)]
    pub head: u64,
}

/// One change record. `row` is the parsed entity of a put, `None` for a delete (whose row the
/// protocol leaves `null` and the desk never reads).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub seq: u64,
    pub entity: EntityKind,
    pub id: String,
    pub op: Op,
    pub row: Option<Record>,
}

impl Pull {
    /// Parses every put's row of `resp`; a malformed row refuses the whole response.
    pub fn from_response(resp: &PullResponse) -> Result<Pull, StoreError> {
        let buckets = resp
            .buckets
            .iter()
            .map(|b| {
                let changes = b
                    .changes
                    .iter()
                    .map(|c| {
                        let row = match c.op {
                            Op::Put => Some(Record::from_value(c.entity, &c.row)?),
                            Op::Delete => None,
                        };
                        Ok(Change { seq: c.seq, entity: c.entity, id: c.id.clone(), op: c.op, row })
                    })
                    .collect::<Result<_, StoreError>>()?;
                Ok(Bucket { bucket: b.bucket.clone(), changes, cursor: b.cursor, head: b.head })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Pull {
            buckets,
            complete: resp.complete,
            last_mutation_id: resp.last_mutation_id,
            results: resp.results.clone(),
            removed_buckets: resp.removed_buckets.clone(),
        })
    }

    pub fn changes(&self) -> usize {
        self.buckets.iter().map(|b| b.changes.len()).sum()
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Seq,
    Entity,
    Id,
    Op,
    Row,
    #[serde(other)]
    Other,
}

/// The row of a put, parsed as the entity `.0`; `null` is `None`.
struct RowSeed(EntityKind);

impl<'de> DeserializeSeed<'de> for RowSeed {
    type Value = Option<Record>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Record>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for RowSeed {
    type Value = Option<Record>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} row or null", self.0.as_str())
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<Record>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Record>, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<Record>, D::Error> {
        Record::deserialize(self.0, d).map(Some)
    }
}

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Change, D::Error> {
        d.deserialize_map(ChangeVisitor)
    }
}

struct ChangeVisitor;

/// A row read before the record said what it is, kept as a `Value` until it does (the server
/// writes `entity` and `op` first, so this is only a fallback). Lives on the stack for one
/// record, so its size does not matter.
#[allow(clippy::large_enum_variant)]
enum RowField {
    Missing,
    Parsed(Option<Record>),
    Deferred(Value),
}

impl<'de> Visitor<'de> for ChangeVisitor {
    type Value = Change;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a change record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Change, A::Error> {
        let (mut seq, mut entity, mut id, mut op) = (None, None, None, None);
        let mut row = RowField::Missing;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Seq if seq.is_none() => seq = Some(map.next_value::<u64>()?),
                Field::Entity if entity.is_none() => entity = Some(map.next_value::<EntityKind>()?),
                Field::Id if id.is_none() => id = Some(map.next_value::<String>()?),
                Field::Op if op.is_none() => op = Some(map.next_value::<Op>()?),
                Field::Row if matches!(row, RowField::Missing) => {
                    row = match (entity, op) {
                        (Some(kind), Some(Op::Put)) => RowField::Parsed(map.next_value_seed(RowSeed(kind))?),
                        (_, Some(Op::Delete)) => {
                            map.next_value::<IgnoredAny>()?;
                            RowField::Parsed(None)
                        }
                        _ => RowField::Deferred(map.next_value::<Value>()?),
                    }
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
                Field::Seq => return Err(de::Error::duplicate_field("seq")),
                Field::Entity => return Err(de::Error::duplicate_field("entity")),
                Field::Id => return Err(de::Error::duplicate_field("id")),
                Field::Op => return Err(de::Error::duplicate_field("op")),
                Field::Row => return Err(de::Error::duplicate_field("row")),
            }
        }
        let seq = seq.ok_or_else(|| de::Error::missing_field("seq"))?;
        let entity = entity.ok_or_else(|| de::Error::missing_field("entity"))?;
        let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        let op = op.ok_or_else(|| de::Error::missing_field("op"))?;
        let row = match (row, op) {
            (RowField::Missing, _) => return Err(de::Error::missing_field("row")),
            (_, Op::Delete) => None,
            (RowField::Parsed(r), Op::Put) => r,
            (RowField::Deferred(v), Op::Put) => RowSeed(entity).deserialize(&v).map_err(de::Error::custom)?,
        };
        if op == Op::Put && row.is_none() {
            return Err(de::Error::custom(format!("put of {} {id} without a row", entity.as_str())));
        }
        Ok(Change { seq, entity, id, op, row })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use tourdesk_domain::protocol::{BucketPage, ChangeRecord, OutcomeStatus};

    fn tour(id: &str) -> Value {
        json!({"id": id, "organization_id": "org-1", "name": "Ramen Walk", "slug": "ramen-walk",
               "short_description": "", "duration_minutes": 60, "default_capacity": 8, "min_participants": 1,
               "category": "food", "timezone": "Asia/Tokyo", "meeting_point": "", "status": "draft"})
    }

    fn response() -> PullResponse {
        let change = |seq, id: &str, op, row| ChangeRecord { seq, entity: EntityKind::Tour, id: id.into(), op, row };
        PullResponse {
            buckets: vec![BucketPage {
                bucket: "org:org-1:all".into(),
                changes: vec![change(1, "t-1", Op::Put, tour("t-1")), change(2, "t-2", Op::Delete, Value::Null)],
                cursor: 2,
                head: 9,
            }],
            complete: false,
            last_mutation_id: 3,
            results: vec![MutationResult { id: 3, status: OutcomeStatus::Applied, code: None, detail: None }],
            removed_buckets: vec!["schedule:d-1".into()],
        }
    }

    #[test]
    fn the_wire_text_reads_as_the_response_converts() {
        let resp = response();
        let from_text: Pull = serde_json::from_str(&serde_json::to_string(&resp).unwrap()).unwrap();
        assert_eq!(from_text, Pull::from_response(&resp).unwrap());
        assert!(matches!(&from_text.buckets[0].changes[0].row, Some(Record::Tour(t)) if t.id == "t-1"));
        assert_eq!(from_text.buckets[0].changes[1].row, None);
    }

    #[test]
    fn a_row_before_its_kind_is_parsed_once_the_kind_is_known() {
        let text = json!({"row": tour("t-1"), "id": "t-1", "op": "put", "seq": 4, "entity": "tour", "extra": 1});
        let c: Change = serde_json::from_value(text).unwrap();
        assert!(matches!(c.row, Some(Record::Tour(ref t)) if t.name == "Ramen Walk"));
        let gone: Change =
            serde_json::from_value(json!({"row": null, "id": "t-1", "op": "delete", "seq": 5, "entity": "tour"}))
                .unwrap();
        assert_eq!(gone.row, None);
    }

    #[test]
    fn a_malformed_or_missing_row_refuses_the_record() {
        let mut bad = tour("t-1");
        bad["status"] = json!("sideways");
        let text = |row: Value| json!({"seq": 1, "entity": "tour", "id": "t-1", "op": "put", "row": row});
        assert!(serde_json::from_value::<Change>(text(bad.clone())).is_err());
        assert!(serde_json::from_value::<Change>(text(Value::Null)).is_err());
        assert!(
            serde_json::from_value::<Change>(json!({"seq": 1, "entity": "tour", "id": "t-1", "op": "put"})).is_err()
        );
        let mut resp = response();
        resp.buckets[0].changes[0].row = bad;
        assert!(Pull::from_response(&resp).is_err());
    }
}
