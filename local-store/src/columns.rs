//! An entity's serde form written straight into the columns of its replica table, without
//! building a `serde_json::Value` first: a Text, Int or Bool column takes the field's scalar, a
//! Json column the field's JSON text, and a field that is absent or `None` leaves NULL. This is
//! the same mapping as reading the entity's `serde_json::to_value` form column by column (which
//! `rows::from_sql` reverses), only without a tree of maps per row: a full sync writes every
//! booking and customer of the organization through here.

use std::fmt;

use rusqlite::types::Value as SqlValue;
use serde::Serialize;
use serde::ser::{self, Impossible};

use crate::StoreError;

/// How a column holds one field of an entity's serde form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Col {
    Text,
    Int,
    Bool,
    /// A nested part, kept as its JSON text.
    Json,
}

/// The column values of `v` (an entity serialized as a struct) for `cols`, in their order.
/// Fields without a column are ignored, as the table holds only what it names.
pub(crate) fn columns<T: Serialize>(
    table: &str,
    cols: &[(&'static str, Col)],
    v: &T,
) -> Result<Vec<SqlValue>, StoreError> {
    let mut out = Columns { cols, values: vec![SqlValue::Null; cols.len()] };
    v.serialize(&mut out).map_err(|e| StoreError::Corrupt(format!("{table}.{}", e.0)))?;
    Ok(out.values)
}

#[derive(Debug)]
pub(crate) struct ColError(String);

impl fmt::Display for ColError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ColError {}

impl ser::Error for ColError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ColError(msg.to_string())
    }
}

struct Columns<'a> {
    cols: &'a [(&'static str, Col)],
    values: Vec<SqlValue>,
}

/// Serializer methods that refuse their value: each answers `$err(&self, &what)`.
macro_rules! refuse {
    ($err:path; $($name:ident($($arg:ty),*) -> $ret:ty: $what:literal;)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<$ret, ColError> {
            Err($err(&self, &$what))
        })*
    };
}

fn not_a_struct<T>(_: &T, _: &&str) -> ColError {
    ColError("row: not an object".into())
}

impl<'a, 'b> ser::Serializer for &'b mut Columns<'a> {
    type Ok = ();
    type Error = ColError;
    type SerializeSeq = Impossible<(), ColError>;
    type SerializeTuple = Impossible<(), ColError>;
    type SerializeTupleStruct = Impossible<(), ColError>;
    type SerializeTupleVariant = Impossible<(), ColError>;
    type SerializeMap = Impossible<(), ColError>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), ColError>;

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, ColError> {
        Ok(self)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> Result<(), ColError> {
        v.serialize(self)
    }
    refuse! {
        not_a_struct;
        serialize_bool(bool) -> (): "";
        serialize_i8(i8) -> (): "";
        serialize_i16(i16) -> (): "";
        serialize_i32(i32) -> (): "";
        serialize_i64(i64) -> (): "";
        serialize_u8(u8) -> (): "";
        serialize_u16(u16) -> (): "";
        serialize_u32(u32) -> (): "";
        serialize_u64(u64) -> (): "";
        serialize_f32(f32) -> (): "";
        serialize_f64(f64) -> (): "";
        serialize_char(char) -> (): "";
        serialize_str(&str) -> (): "";
        serialize_bytes(&[u8]) -> (): "";
        serialize_none() -> (): "";
        serialize_unit() -> (): "";
        serialize_unit_struct(&'static str) -> (): "";
        serialize_unit_variant(&'static str, u32, &'static str) -> (): "";
        serialize_seq(Option<usize>) -> Self::SerializeSeq: "";
        serialize_tuple(usize) -> Self::SerializeTuple: "";
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct: "";
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant: "";
        serialize_map(Option<usize>) -> Self::SerializeMap: "";
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant: "";
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), ColError> {
        Err(not_a_struct(&(), &""))
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), ColError> {
        Err(not_a_struct(&(), &""))
    }
}

impl<'a, 'b> ser::SerializeStruct for &'b mut Columns<'a> {
    type Ok = ();
    type Error = ColError;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), ColError> {
        let Some(i) = self.cols.iter().position(|(n, _)| *n == key) else { return Ok(()) };
        let col = self.cols[i].1;
        self.values[i] = match col {
            Col::Json => {
                let text = serde_json::to_string(value).map_err(|e| ColError(format!("{key}: {e}")))?;
                if text == "null" { SqlValue::Null } else { SqlValue::Text(text) }
            }
            _ => value.serialize(Scalar { col }).map_err(|e| ColError(format!("{key}: {e}")))?,
        };
        Ok(())
    }

    fn end(self) -> Result<(), ColError> {
        Ok(())
    }
}

/// One field's value for a Text, Int or Bool column; `None` and unit are NULL.
struct Scalar {
    col: Col,
}

impl Scalar {
    fn int(self, n: Option<i64>, shown: &dyn fmt::Display) -> Result<SqlValue, ColError> {
        match (self.col, n) {
            (Col::Int, Some(n)) => Ok(SqlValue::Integer(n)),
            _ => Err(self.unexpected(shown)),
        }
    }

    fn unexpected(&self, shown: &dyn fmt::Display) -> ColError {
        ColError(format!("unexpected {shown} for a {:?} column", self.col))
    }
}

impl ser::Serializer for Scalar {
    type Ok = SqlValue;
    type Error = ColError;
    type SerializeSeq = Impossible<SqlValue, ColError>;
    type SerializeTuple = Impossible<SqlValue, ColError>;
    type SerializeTupleStruct = Impossible<SqlValue, ColError>;
    type SerializeTupleVariant = Impossible<SqlValue, ColError>;
    type SerializeMap = Impossible<SqlValue, ColError>;
    type SerializeStruct = Impossible<SqlValue, ColError>;
    type SerializeStructVariant = Impossible<SqlValue, ColError>;

    fn serialize_bool(self, v: bool) -> Result<SqlValue, ColError> {
        match self.col {
            Col::Bool => Ok(SqlValue::Integer(i64::from(v))),
            _ => Err(self.unexpected(&v)),
        }
    }
    fn serialize_i8(self, v: i8) -> Result<SqlValue, ColError> {
        self.int(Some(i64::from(v)), &v)
    }
    fn serialize_i16(self, v: i16) -> Result<SqlValue, ColError> {
        self.int(Some(i64::from(v)), &v)
    }
    fn serialize_i32(self, v: i32) -> Result<SqlValue, ColError> {
        self.int(Some(i64::from(v)), &v)
    }
    fn serialize_i64(self, v: i64) -> Result<SqlValue, ColError> {
        self.int(Some(v), &v)
    }
    fn serialize_u8(self, v: u8) -> Result<SqlValue, ColError> {
        self.int(Some(i64::from(v)), &v)
    }
    fn serialize_u16(self, v: u16) -> Result<SqlValue, ColError> {
        self.int(Some(i64::from(v)), &v)
    }
    fn serialize_u32(self, v: u32) -> Result<SqlValue, ColError> {
        self.int(Some(i64::from(v)), &v)
    }
    fn serialize_u64(self, v: u64) -> Result<SqlValue, ColError> {
        self.int(i64::try_from(v).ok(), &v)
    }
    fn serialize_char(self, v: char) -> Result<SqlValue, ColError> {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<SqlValue, ColError> {
        match self.col {
            Col::Text => Ok(SqlValue::Text(v.to_string())),
            _ => Err(self.unexpected(&format_args!("{v:?}"))),
        }
    }
    refuse! {
        Scalar::unexpected;
        serialize_f32(f32) -> SqlValue: "a decimal number";
        serialize_f64(f64) -> SqlValue: "a decimal number";
        serialize_bytes(&[u8]) -> SqlValue: "bytes";
        serialize_seq(Option<usize>) -> Self::SerializeSeq: "array";
        serialize_tuple(usize) -> Self::SerializeTuple: "array";
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct: "array";
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant: "object";
        serialize_map(Option<usize>) -> Self::SerializeMap: "object";
        serialize_struct(&'static str, usize) -> Self::SerializeStruct: "object";
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant: "object";
    }
    fn serialize_none(self) -> Result<SqlValue, ColError> {
        Ok(SqlValue::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<SqlValue, ColError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<SqlValue, ColError> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<SqlValue, ColError> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<SqlValue, ColError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> Result<SqlValue, ColError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> Result<SqlValue, ColError> {
        Err(self.unexpected(&variant))
    }
}
