import { ActivityTypes, MessageFactory } from 'botbuilder';
import { TextPrompt, WaterfallDialog, type DialogTurnResult, type PromptValidatorContext, type WaterfallStepContext } from 'botbuilder-dialogs';
import { renderAccountsEntryCard } from '../../cards/accounts-entry';
import { renderAttestationsCard } from '../../cards/attestations';
import { parseAccountFile } from '../../services/account-file';
import { parseAccountList, type AccountEntry, type ParsedAccountList } from '../../services/account-list';
import { findAppError } from '../../core/errors';
import { downloadAttachedFile } from '../attachments/attached-file';
import { ATTESTATION_KEYS, isScreenedOut, type Attestations, type RequesterContext } from '../../services/model';
import type { ScreeningJobs } from '../../services/store/screening-jobs';
import type { TransferWorkflow } from '../../services/transfer-workflow';
import { CancelAndHelpDialog } from './cancel-and-help-dialog';
import { ATTACHED_FILE_STEP, CardStepPrompt, type CardStepAnswer } from './card-step-prompt';
import { REVIEW_DIALOG, ReviewDialog, type ReviewOptions, type ReviewOutcome } from './review-dialog';
import { YesNoPrompt } from './yes-no-prompt';

export const TRANSFER_DIALOG = 'transferDialog';
const STEPS = 'transferSteps';
const CONFIRM_ORGANISATION = 'confirmOrganisation';
const REASON_PROMPT = 'reasonPrompt';
const ACCOUNTS_PROMPT = 'accountsPrompt';
const ATTESTATIONS_PROMPT = 'attestationsPrompt';

const REASON_MIN = 10;
const REASON_MAX = 1000;
const PROBLEMS_SHOWN = 10;

export interface TransferDialogOptions {
  requester: RequesterContext;
  /** This conversation's draft: submitting it twice (a double click, a retry) makes one request. */
  draftId: string;
  /** How many times this draft's list has been screened: each screening is its own job. */
  round?: number;
  /** Present when the requester chose to edit the list: the earlier answers are kept. */
  reason?: string;
  /** The list as it was, one account a line, back in the box when they edit it. */
  previousList?: string;
}

interface TransferValues {
  options: TransferDialogOptions;
  reason: string;
  entries: AccountEntry[];
  attestations: Attestations;
}

/** Where the screening job runs and how it is started; the dialog only asks for it. */
export interface ScreeningRequests {
  jobs: ScreeningJobs;
  /** Work was queued (a job, an owed message): the background workers look now. */
  wake(): void;
}

/** The Legacy Transfer form as a conversation: organisation, reason, accounts, attestations, screening, review, submit. */
export class TransferDialog extends CancelAndHelpDialog {
  constructor(
    private readonly screening: ScreeningRequests,
    private readonly workflow: TransferWorkflow,
    private readonly maxAccounts: number,
    /** Local runs only: attached files may come from an http:// address (the Agents Playground). */
    private readonly allowInsecureFileLinks = false,
  ) {
    super(TRANSFER_DIALOG);
    this.addDialog(new YesNoPrompt(CONFIRM_ORGANISATION));
    this.addDialog(new TextPrompt(REASON_PROMPT, (prompt) => this.validateReason(prompt)));
    this.addDialog(new CardStepPrompt(ACCOUNTS_PROMPT, (prompt) => this.validateAccounts(prompt)));
    this.addDialog(new CardStepPrompt(ATTESTATIONS_PROMPT, (prompt) => this.validateAttestations(prompt)));
    this.addDialog(new ReviewDialog(screening));
    this.addDialog(
      new WaterfallDialog(STEPS, [
        (step) => this.confirmOrganisationStep(step),
        (step) => this.reasonStep(step),
        (step) => this.accountsStep(step),
        (step) => this.attestationsStep(step),
        (step) => this.screenStep(step),
        (step) => this.reviewStep(step),
      ]),
    );
    this.initialDialogId = STEPS;
  }

  private values(step: WaterfallStepContext): TransferValues {
    return step.values as TransferValues;
  }

  private async confirmOrganisationStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = step.options as TransferDialogOptions;
    this.values(step).options = options;
    if (options.reason) return step.next(true);
    const { organisationName, organisationOds } = options.requester;
    return step.prompt(CONFIRM_ORGANISATION, {
      prompt: `You administer **${organisationName}** (${organisationOds}). Are the accounts transferring from this organisation? (yes or no)`,
      retryPrompt: 'Please answer yes or no.',
    });
  }

  private async reasonStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const { options } = this.values(step);
    if (step.result !== true) {
      await step.context.sendActivity(
        'Then I cannot start this transfer: only the organisation that administers the accounts can transfer them. Ask that organisation’s Primary Administrator. Nothing was submitted.',
      );
      return step.endDialog();
    }
    if (options.reason) return step.next(options.reason);
    return step.prompt(REASON_PROMPT, {
      prompt: 'Why are these accounts being transferred to NAS? For example: "Our sponsorship of these community pharmacies ends on 31 March."',
    });
  }

  private async accountsStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    this.values(step).reason = String(step.result).trim();
    return step.prompt(ACCOUNTS_PROMPT, {
      prompt: MessageFactory.attachment(
        renderAccountsEntryCard({ maxAccounts: this.maxAccounts, problemSummary: '', problems: [], previousText: this.values(step).options.previousList ?? '' }),
      ),
    });
  }

  private async attestationsStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const answer = step.result as CardStepAnswer;
    if (answer.step === 'cancel') return this.cancelled(step);
    const values = this.values(step);
    values.entries = parseAccountList(accountListText(answer)).entries;
    const cardContext = { organisationName: values.options.requester.organisationName, accountCount: values.entries.length };
    return step.prompt(ATTESTATIONS_PROMPT, {
      prompt: MessageFactory.attachment(renderAttestationsCard({ ...cardContext, missingNotice: '' })),
      validations: cardContext,
    });
  }

  /** Screening runs as a job off the turn: this turn only queues it and says so. */
  private async screenStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const answer = step.result as CardStepAnswer;
    if (answer.step === 'cancel') return this.cancelled(step);
    const values = this.values(step);
    values.attestations = attestationsFrom(answer);
    const { requester, draftId, round = 1 } = values.options;
    // Named by draft and round, so a retried or concurrent turn queues the same job, not a second one.
    const job = await this.screening.jobs.create({
      id: `${draftId}:${round}`,
      ownerId: requester.id,
      organisationOds: requester.organisationOds,
      organisationName: requester.organisationName,
      entries: values.entries,
    });
    this.screening.wake();
    const [, progress] = await step.context.sendActivities([
      { type: ActivityTypes.Typing },
      MessageFactory.text(`Checking ${job.total} accounts against the transfer policy… I will post the results here as soon as they are ready.`),
    ]);
    if (progress?.id) await this.screening.jobs.recordProgressMessage(job.id, progress.id);
    return step.beginDialog(REVIEW_DIALOG, { jobId: job.id } satisfies ReviewOptions);
  }

  private async reviewStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const { choice, jobId } = step.result as ReviewOutcome;
    const values = this.values(step);
    if (choice === 'cancel') return this.cancelled(step);
    if (choice === 'edit') {
      const { options } = values;
      return step.replaceDialog(STEPS, {
        ...options,
        round: (options.round ?? 1) + 1,
        reason: values.reason,
        previousList: values.entries.map(entryAsLine).join('\n'),
      } satisfies TransferDialogOptions);
    }
    const job = await this.screening.jobs.get(jobId);
    if (!job?.result) return this.cancelled(step);
    const { request, created } = await this.workflow.submit({
      draftId: values.options.draftId,
      requester: values.options.requester,
      reason: values.reason,
      attestations: values.attestations,
      policyVersion: job.result.policyVersion,
      accounts: job.result.accounts,
    });
    // The ops card it owes goes now, not at the next poll.
    this.screening.wake();
    const notSent = request.accounts.filter(isScreenedOut).length;
    await step.context.sendActivity(
      (created ? 'Submitted.' : 'This list was already submitted.') +
        ` Your reference is **${request.reference}** (${request.accounts.length - notSent} accounts).` +
        (notSent > 0 ? ` ${notSent === 1 ? '1 account that is not eligible was' : `${notSent} accounts that are not eligible were`} not sent for a decision; the next steps are on the results card.` : '') +
        ` It is with NAS Operations. I will message you here when it is decided. Type **status ${request.reference}** at any time.`,
    );
    return step.endDialog(request.reference);
  }

  private async cancelled(step: WaterfallStepContext): Promise<DialogTurnResult> {
    await step.context.sendActivity('Cancelled. Nothing was submitted.');
    return step.endDialog();
  }

  private async validateReason(prompt: PromptValidatorContext<string>): Promise<boolean> {
    const length = prompt.recognized.value?.trim().length ?? 0;
    if (length >= REASON_MIN && length <= REASON_MAX) return true;
    await prompt.context.sendActivity(`Please give the reason in ${REASON_MIN} to ${REASON_MAX} characters.`);
    return false;
  }

  private async validateAccounts(prompt: PromptValidatorContext<CardStepAnswer>): Promise<boolean> {
    const answer = prompt.recognized.value;
    if (!answer) return false;
    if (answer.step === 'cancel') return true;
    const fromFile = answer.step === ATTACHED_FILE_STEP ? await this.readAttachedFile(prompt, answer) : undefined;
    if (fromFile === null) return false;
    const text = fromFile?.text ?? accountListText(answer);
    const { entries, problems } = fromFile?.parsed ?? parseAccountList(text);
    const retry = async (problemSummary: string, lines: string[]) =>
      prompt.context.sendActivity(
        MessageFactory.attachment(
          renderAccountsEntryCard({ maxAccounts: this.maxAccounts, problemSummary, problems: lines.map((line) => ({ text: line })), previousText: text }),
        ),
      );
    if (problems.length > 0) {
      const where = fromFile ? 'Row' : 'Line';
      const shown = problems.slice(0, PROBLEMS_SHOWN).map((problem) => `${where} ${problem.line}: ${problem.message}`);
      if (problems.length > PROBLEMS_SHOWN) shown.push(`…and ${problems.length - PROBLEMS_SHOWN} more.`);
      await retry(`${problems.length} of the ${fromFile ? `rows of ${fromFile.name}` : 'lines'} need correcting (${entries.length} were fine). Nothing has been checked or submitted yet.`, shown);
      return false;
    }
    if (entries.length === 0) {
      await retry('I did not find any accounts. Put one email address per line.', []);
      return false;
    }
    if (entries.length > this.maxAccounts) {
      await retry(`That list has ${entries.length} accounts; one request may hold at most ${this.maxAccounts}. Split it into several requests.`, []);
      return false;
    }
    if (fromFile) {
      // From here on the list is the file's accounts, as text: "Edit the list" brings them back in the box.
      answer.step = 'accounts';
      answer.inputs = { accounts: fromFile.text };
    }
    return true;
  }

  /** Downloads and reads an attached CSV or XLSX; null (after saying why) when it cannot be used. */
  private async readAttachedFile(prompt: PromptValidatorContext<CardStepAnswer>, answer: CardStepAnswer): Promise<{ name: string; text: string; parsed: ParsedAccountList } | null> {
    const name = answer.inputs.name ?? 'the file';
    try {
      const file = await downloadAttachedFile({ name, fileType: answer.inputs.fileType ?? '', downloadUrl: answer.inputs.downloadUrl ?? '' }, this.allowInsecureFileLinks);
      const parsed = await parseAccountFile(file);
      return { name, parsed, text: parsed.entries.map(entryAsLine).join('\n') };
    } catch (error) {
      const appError = findAppError(error);
      if (!appError) throw error;
      await prompt.context.sendActivity(
        MessageFactory.attachment(renderAccountsEntryCard({ maxAccounts: this.maxAccounts, problemSummary: appError.userMessage, problems: [], previousText: '' })),
      );
      return null;
    }
  }

  private async validateAttestations(prompt: PromptValidatorContext<CardStepAnswer>): Promise<boolean> {
    const answer = prompt.recognized.value;
    if (answer?.step === 'cancel') return true;
    if (answer?.step !== 'attestations') {
      await prompt.context.sendActivity('Please tick the confirmations on the card and press **Confirm and screen the accounts**, or type **cancel**.');
      return false;
    }
    const missing = ATTESTATION_KEYS.filter((key) => answer.inputs[key] !== 'true');
    if (missing.length === 0) return true;
    const cardContext = prompt.options.validations as { organisationName: string; accountCount: number };
    await prompt.context.sendActivity(
      MessageFactory.attachment(
        renderAttestationsCard({
          ...cardContext,
          missingNotice: `All four confirmations are needed before the accounts can be screened; ${missing.length} ${missing.length === 1 ? 'is' : 'are'} not ticked.`,
        }),
      ),
    );
    return false;
  }
}

/** The list comes from the card's box, or from a message typed or pasted into the chat. */
function accountListText(answer: CardStepAnswer): string {
  return answer.step === 'accounts' ? answer.inputs.accounts ?? '' : answer.inputs.text ?? '';
}

/** One account as a line of the list, quoting a value only where CSV needs it. */
function entryAsLine(entry: AccountEntry): string {
  const quoted = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  return [entry.email, entry.siteOds ?? '', entry.specialism ? quoted(entry.specialism) : ''].join(', ').replace(/(, )+$/, '');
}

function attestationsFrom(answer: CardStepAnswer): Attestations {
  return Object.fromEntries(ATTESTATION_KEYS.map((key) => [key, answer.inputs[key] === 'true'])) as Attestations;
}
