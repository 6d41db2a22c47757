// Reads an iCalendar file with Mozilla's ical.js (Thunderbird's parser) and
// prints what a calendar program takes from it, as JSON: the method and, per
// VEVENT, start and end as UTC instants, uid, sequence, status, summary, the
// URL and ORGANIZER if any, and whether an ATTENDEE is present.
//
// Usage: node tests/js/read_calendar.mjs [file.ics]   (stdin without a file)
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2] ?? 0, "utf8");
const calendar = new ICAL.Component(ICAL.parse(text));
// Register the file's own time zones, as Thunderbird does before reading times.
for (const zone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(zone));
}
const utc = (time) => (time ? time.toJSDate().toISOString().replace(".000Z", "Z") : null);
const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  const organizer = component.getFirstProperty("organizer");
  return {
    uid: event.uid,
    sequence: event.sequence,
    status: component.getFirstPropertyValue("status"),
    summary: event.summary,
    start: utc(event.startDate),
    end: utc(event.endDate),
    dtstamp: utc(component.getFirstPropertyValue("dtstamp")),
    url: component.getFirstPropertyValue("url"),
    organizer: organizer ? { address: organizer.getFirstValue(), cn: organizer.getParameter("cn") ?? null } : null,
    attendee: component.hasProperty("attendee"),
  };
});
process.stdout.write(JSON.stringify({ method: calendar.getFirstPropertyValue("method"), events }) + "\n");
