//! The streaming device as Adobe reports it back (`device` in §7.4), built from the
//! `X-Device-Info` keys of §3.1.

use serde_json::{Map, Value};

use crate::{
    adobe_pass::allowed_values,
    emulator::responses::{
        Browser, Connection, Device, Display, Hardware, OperatingSystem, Version,
    },
};

fn text(info: &Map<String, Value>, key: &str) -> Option<String> {
    match info.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(info: &Map<String, Value>, key: &str) -> Option<i64> {
    match info.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `"10.15.7-beta"` → major 10, minor 15, patch 7, profile `-beta`.
pub fn parse_version(raw: &str) -> Version {
    let mut parts = [0i32; 3];
    let mut rest = raw;
    for part in &mut parts {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            break;
        }
        *part = rest[..digits].parse().unwrap_or(0);
        rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(after) => rest = after,
            None => break,
        }
    }
    Version {
        major: parts[0],
        minor: parts[1],
        patch: parts[2],
        profile: rest.to_owned(),
    }
}

/// The device described by a decoded `X-Device-Info`.
pub fn from_info(info: &Map<String, Value>) -> Device {
    let kind = text(info, "primaryHardwareType")
        .filter(|t| {
            // The types OAS `Device.type` allows; anything else is reported as `Unknown`.
            allowed_values("primaryHardwareType").is_some_and(|types| types.contains(&t.as_str()))
        })
        .unwrap_or_else(|| "Unknown".to_owned());
    let user_agent = text(info, "userAgent");
    Device {
        kind: Some(kind),
        model: text(info, "model"),
        version: text(info, "version").map(|v| parse_version(&v)),
        hardware: Some(Hardware {
            name: None,
            vendor: text(info, "vendor"),
            version: None,
            manufacturer: text(info, "manufacturer"),
        }),
        operating_system: Some(OperatingSystem {
            name: text(info, "osName"),
            family: text(info, "osFamily"),
            vendor: text(info, "osVendor"),
            version: text(info, "osVersion").map(|v| parse_version(&v)),
        }),
        browser: Some(Browser {
            name: text(info, "browserName"),
            vendor: text(info, "browserVendor"),
            version: text(info, "browserVersion").map(|v| parse_version(&v)),
            user_agent: user_agent.clone(),
            original_user_agent: user_agent,
        }),
        display: Some(Display {
            width: number(info, "displayWidth"),
            height: number(info, "displayHeight"),
            ppi: number(info, "displayPpi"),
            name: None,
            vendor: None,
            version: None,
            diagonal_size: text(info, "diagonalScreenSize"),
        }),
        application_id: text(info, "applicationId"),
        connection: Some(Connection {
            ip_address: text(info, "connectionIp"),
            port: text(info, "connectionPort"),
            secure: info.get("connectionSecure").and_then(|v| match v {
                Value::Bool(b) => Some(*b),
                Value::String(s) => s.parse().ok(),
                _ => None,
            }),
            kind: text(info, "connectionType"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_numbers_then_keep_the_rest() {
        assert_eq!(
            parse_version("10.15.7"),
            Version {
                major: 10,
                minor: 15,
                patch: 7,
                profile: String::new()
            }
        );
        assert_eq!(
            parse_version("14"),
            Version {
                major: 14,
                minor: 0,
                patch: 0,
                profile: String::new()
            }
        );
        assert_eq!(parse_version("r0q").profile, "r0q");
    }

    #[test]
    fn unknown_hardware_types_are_reported_as_unknown() {
        let info = serde_json::json!({"primaryHardwareType": "Toaster", "connectionPort": 53124});
        let device = from_info(info.as_object().expect("object"));
        assert_eq!(device.kind.as_deref(), Some("Unknown"));
        assert_eq!(
            device.connection.and_then(|c| c.port).as_deref(),
            Some("53124")
        );
    }
}
