/**
 * The vendor objects the sample webhooks refer to (test/fixtures/<vendor>/api/), put into the
 * vendor API emulators so that enrichment finds them: a HubSpot `contact.creation` names contact
 * 51, which HubSpot itself would hold.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SeedTarget {
  /** The HubSpot emulator's address, and the token it takes. */
  readonly hubspot: { readonly url: string; readonly token: string };
}

interface ContactSeed {
  readonly id: string;
  readonly properties: Readonly<Record<string, string | null>>;
}

/** Puts every fixture object into its emulator, through the emulator's API; the ids put. */
export async function seedVendorObjects(
  fixtures: string,
  target: SeedTarget,
): Promise<{ hubspotContacts: string[] }> {
  const file = join(fixtures, 'hubspot', 'api', 'contacts.json');
  const contacts = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as ContactSeed[])
    : [];
  for (const contact of contacts) {
    const response = await fetch(
      `${target.hubspot.url}/_emulator/contacts/${encodeURIComponent(contact.id)}`,
      {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${target.hubspot.token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ properties: contact.properties }),
      },
    );
    if (!response.ok)
      throw new Error(
        `the HubSpot emulator refused contact ${contact.id}: ${response.status} ${await response.text()}`,
      );
  }
  return { hubspotContacts: contacts.map((c) => c.id) };
}
