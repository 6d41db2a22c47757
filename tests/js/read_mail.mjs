// Reads one e-mail (RFC 5322 bytes) with mailparser, the parser of the
// Nodemailer project, and prints what a mail program takes from it, as JSON:
// sender (address and name), Reply-To, recipients, subject, Message-ID, the headers that steer automatic
// replies, the text part, whether there is an HTML part, and each attachment's type, file name and content
// (base64).
//
// Usage: node tests/js/read_mail.mjs [file.eml]   (stdin without a file)
import { readFileSync } from "node:fs";
import { simpleParser } from "mailparser";

const raw = readFileSync(process.argv[2] ?? 0);
const mail = await simpleParser(raw, { skipTextToHtml: true, skipTextLinks: true });
const addresses = (field) => (field ? field.value.map((entry) => entry.address) : []);
process.stdout.write(JSON.stringify({
  from: addresses(mail.from),
  fromName: mail.from ? mail.from.value[0].name : null,
  replyTo: addresses(mail.replyTo),
  to: addresses(mail.to),
  subject: mail.subject ?? null,
  messageId: mail.messageId ?? null,
  autoReplies: Object.fromEntries(["auto-submitted", "x-auto-response-suppress", "precedence"]
    .map((name) => [name, mail.headers.has(name) ? String(mail.headers.get(name)) : null])),
  text: mail.text ?? null,
  html: Boolean(mail.html),
  attachments: mail.attachments.map((part) => ({
    contentType: part.contentType,
    filename: part.filename ?? null,
    content: part.content.toString("base64"),
  })),
}));
