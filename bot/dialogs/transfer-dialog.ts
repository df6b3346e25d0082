import { ActivityTypes, MessageFactory, type TurnContext } from 'botbuilder';
import { TextPrompt, WaterfallDialog, type DialogTurnResult, type PromptValidatorContext, type WaterfallStepContext } from 'botbuilder-dialogs';
import { countVerdicts } from '../../cards/account-rows';
import { renderAccountsEntryCard } from '../../cards/accounts-entry';
import { renderAttestationsCard, type AttestationsCardData } from '../../cards/attestations';
import { plural, pluralWord } from '../../cards/plural';
import { parseAccountFile } from '../../services/account-file';
import { entryAsLine, parseAccountList, type AccountListOptions, type ParsedAccountList, type SpecialismVocabulary } from '../../services/account-list';
import { findAppError } from '../../core/errors';
import { downloadAttachedFile } from '../attachments/attached-file';
import { ATTESTATION_KEYS, isScreenedOut, type Attestations, type RequesterContext, type StoredRequest } from '../../services/model';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import { CancelAndHelpDialog } from './cancel-and-help-dialog';
import { ATTACHED_FILE_STEP, CardStepPrompt, type CardStepAnswer } from './card-step-prompt';
import { REVIEW_DIALOG, ReviewDialog, type ReviewOptions, type ReviewOutcome } from './review-dialog';
import type { ScreeningRequests } from '../../services/screening-requests';
import { YesNoPrompt } from './yes-no-prompt';

export const TRANSFER_DIALOG = 'transferDialog';
/**
 * Raise it whenever the steps change order or what they save changes shape: a conversation
 * saved under another version is set aside (bot/state/dialog-state.ts) instead of resuming at
 * the wrong step. 2: the confirmations moved after the screening results.
 */
export const TRANSFER_FORM_VERSION = 2;
const STEPS = 'transferSteps';
const CONFIRM_ORGANISATION = 'confirmOrganisation';
const REASON_PROMPT = 'reasonPrompt';
const ACCOUNTS_PROMPT = 'accountsPrompt';
const ATTESTATIONS_PROMPT = 'attestationsPrompt';

const REASON_MIN = 10;
const REASON_MAX = 1000;
const PROBLEMS_SHOWN = 10;
/** What a requester types to keep the reason of the request they start again from. */
const KEEP_REASON = 'same';

export interface TransferDialogOptions {
  requester: RequesterContext;
  /** This conversation's draft: submitting it twice (a double click, a retry) makes one request. */
  draftId: string;
  /** How many times this draft's list has been screened: each screening is its own job. */
  round?: number;
  /** Present when the requester chose to edit the list: the earlier answers are kept and not asked again. */
  reason?: string;
  /** A new request started from an earlier one: its reason is offered, and the requester is asked. */
  earlierRequest?: { reference: string; reason: string };
  /** The list as it was, one account a line, back in the box when they edit it. */
  previousList?: string;
}

interface TransferValues {
  options: TransferDialogOptions;
  reason: string;
  /** The list as accepted, one account a line: what "Edit the list" puts back in the box. */
  listText: string;
  jobId: string;
}

/** What the attestations prompt keeps between turns. */
interface AttestationsValidations {
  organisationName: string;
  submitCount: number;
}

/**
 * The Legacy Transfer form as a conversation: organisation, reason, accounts, screening,
 * review of the verdicts, then the four confirmations (about the accounts being submitted,
 * so they are made knowing the results), and submit.
 */
export class TransferDialog extends CancelAndHelpDialog {
  constructor(
    private readonly screening: ScreeningRequests,
    private readonly requests: TransferRequests,
    private readonly maxAccounts: number,
    /** Local runs only: attached files may come from an http:// address (the Agents Playground). */
    private readonly allowInsecureFileLinks = false,
    /** The policy's specialism words: a line with any other is refused at the list step. */
    private readonly specialisms?: SpecialismVocabulary,
    /** After submission: the messages to the affected users, offered for the accounts just submitted and those turned away. */
    private readonly afterSubmit?: (context: TurnContext, request: StoredRequest) => Promise<void>,
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
        (step) => this.screenStep(step),
        (step) => this.attestationsStep(step),
        (step) => this.submitStep(step),
      ]),
    );
    this.initialDialogId = STEPS;
  }

  private values(step: WaterfallStepContext): TransferValues {
    return step.values as TransferValues;
  }

  private get listOptions(): AccountListOptions {
    return { specialisms: this.specialisms, conflictingRepeats: 'refuse' };
  }

  private async confirmOrganisationStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = step.options as TransferDialogOptions;
    this.values(step).options = options;
    if (options.reason || options.earlierRequest) return step.next(true);
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
    const earlier = options.earlierRequest;
    return step.prompt(REASON_PROMPT, {
      prompt: earlier
        ? `Why are these accounts being transferred to NAS? Your reason on ${earlier.reference} was:\n\n> ${earlier.reason.replace(/\s+/g, ' ')}\n\nType **${KEEP_REASON}** to give it again, or write the reason for this request.`
        : 'Why are these accounts being transferred to NAS? For example: "Our sponsorship of these community pharmacies ends on 31 March."',
      validations: { earlierReason: earlier?.reason },
    });
  }

  private async accountsStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const values = this.values(step);
    const answer = String(step.result).trim();
    const earlierReason = values.options.earlierRequest?.reason;
    values.reason = earlierReason && answer.toLowerCase() === KEEP_REASON ? earlierReason : answer;
    return step.prompt(ACCOUNTS_PROMPT, { prompt: MessageFactory.attachment(this.accountsCard('', [], values.options.previousList ?? '')) });
  }

  /** Screening runs as a job off the turn: this turn only queues it and says so. */
  private async screenStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const answer = step.result as CardStepAnswer;
    if (answer.step === 'cancel') return this.cancelled(step);
    const values = this.values(step);
    const entries = parseAccountList(accountListText(answer), this.listOptions).entries;
    values.listText = entries.map(entryAsLine).join('\n');
    const { requester, draftId, round = 1 } = values.options;
    // Named by draft and round, so a retried or concurrent turn queues the same job, not a second one.
    const job = await this.screening.start({
      id: `${draftId}:${round}`,
      ownerId: requester.id,
      organisationOds: requester.organisationOds,
      organisationName: requester.organisationName,
      entries,
    });
    values.jobId = job.id;
    const repeated = answer.inputs.repeatNotice ? `${answer.inputs.repeatNotice}\n\n` : '';
    const [, progress] = await step.context.sendActivities([
      { type: ActivityTypes.Typing },
      MessageFactory.text(
        `${repeated}Checking ${plural(job.total, 'account')} against the transfer policy… I will post the results here as soon as they are ready.`,
      ),
    ]);
    if (progress?.id) await this.screening.recordProgressMessage(job.id, progress.id);
    return step.beginDialog(REVIEW_DIALOG, { jobId: job.id } satisfies ReviewOptions);
  }

  /** The confirmations come after the results, and are about the accounts that will be submitted. */
  private async attestationsStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const { choice } = step.result as ReviewOutcome;
    if (choice === 'cancel') return this.cancelled(step);
    if (choice === 'edit') return this.editList(step);
    const counts = await this.submittableCounts(this.values(step).jobId);
    if (!counts) return this.cancelled(step);
    const validations: AttestationsValidations = { organisationName: this.values(step).options.requester.organisationName, submitCount: counts.submit };
    return step.prompt(ATTESTATIONS_PROMPT, { prompt: MessageFactory.attachment(attestationsCard(validations, '', {})), validations });
  }

  private async submitStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const answer = step.result as CardStepAnswer;
    if (answer.step === 'cancel') return this.cancelled(step);
    if (answer.step === 'edit') return this.editList(step);
    const values = this.values(step);
    const job = await this.screening.get(values.jobId);
    if (!job?.result) return this.cancelled(step);
    const { requester } = values.options;
    const { request, created } = await this.requests.submit({
      draftId: values.options.draftId,
      organisationOds: requester.organisationOds,
      organisationName: requester.organisationName,
      requester: { id: requester.id, name: requester.name },
      reason: values.reason,
      attestations: attestationsFrom(answer),
      policyVersion: job.result.policyVersion,
      accounts: job.result.accounts,
    });
    const notSent = request.accounts.filter(isScreenedOut).length;
    await step.context.sendActivity(
      (created ? 'Submitted.' : 'This list was already submitted.') +
        ` Your reference is **${request.reference}** (${plural(request.accounts.length - notSent, 'account')}).` +
        (notSent > 0
          ? ` ${plural(notSent, 'account')} that ${pluralWord(notSent, 'is', 'are')} not eligible ${pluralWord(notSent, 'was', 'were')} not sent for a decision; the next steps are on the results card.`
          : '') +
        ` It is with NAS Operations. I will message you here when it is decided. Type **status ${request.reference}** at any time.`,
    );
    if (created && this.afterSubmit) await this.afterSubmit(step.context, request);
    return step.endDialog(request.reference);
  }

  /** Back to the accounts card with the list as it was; the organisation and reason are kept. */
  private async editList(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const { options, reason, listText } = this.values(step);
    return step.replaceDialog(STEPS, {
      ...options,
      round: (options.round ?? 1) + 1,
      reason,
      earlierRequest: undefined,
      previousList: listText,
    } satisfies TransferDialogOptions);
  }

  private async submittableCounts(jobId: string): Promise<{ submit: number } | undefined> {
    const job = await this.screening.get(jobId);
    if (!job?.result) return undefined;
    const counts = countVerdicts(job.result.accounts);
    return { submit: counts.eligible + counts.review };
  }

  private async cancelled(step: WaterfallStepContext): Promise<DialogTurnResult> {
    await step.context.sendActivity('Cancelled. Nothing was submitted.');
    return step.endDialog();
  }

  private async validateReason(prompt: PromptValidatorContext<string>): Promise<boolean> {
    const text = prompt.recognized.value?.trim() ?? '';
    const { earlierReason } = (prompt.options.validations ?? {}) as { earlierReason?: string };
    if (earlierReason && text.toLowerCase() === KEEP_REASON) return true;
    if (text.length >= REASON_MIN && text.length <= REASON_MAX) return true;
    await prompt.context.sendActivity(
      `Please give the reason in ${REASON_MIN} to ${REASON_MAX} characters${earlierReason ? `, or type **${KEEP_REASON}** to give the earlier one again` : ''}.`,
    );
    return false;
  }

  private accountsCard(problemSummary: string, problems: string[], previousText: string) {
    return renderAccountsEntryCard({
      maxAccounts: this.maxAccounts,
      problemSummary,
      problems: problems.map((line) => ({ text: line })),
      previousText,
      specialisms: this.specialisms,
    });
  }

  private async validateAccounts(prompt: PromptValidatorContext<CardStepAnswer>): Promise<boolean> {
    const answer = prompt.recognized.value;
    if (!answer) return false;
    if (answer.step === 'cancel') return true;
    const fromFile = answer.step === ATTACHED_FILE_STEP ? await this.readAttachedFile(prompt, answer) : undefined;
    if (fromFile === null) return false;
    const text = fromFile?.text ?? accountListText(answer);
    const { entries, problems, repeats } = fromFile?.parsed ?? parseAccountList(text, this.listOptions);
    const retry = async (problemSummary: string, lines: string[]) =>
      prompt.context.sendActivity(MessageFactory.attachment(this.accountsCard(problemSummary, lines, text)));
    const where = fromFile ? 'Row' : 'Line';
    if (problems.length > 0) {
      const shown = problems.slice(0, PROBLEMS_SHOWN).map((problem) => `${where} ${problem.line}: ${problem.message}`);
      if (problems.length > PROBLEMS_SHOWN) shown.push(`…and ${problems.length - PROBLEMS_SHOWN} more.`);
      const of = fromFile ? `rows of ${fromFile.name}` : 'lines';
      await retry(
        `${problems.length} of the ${of} ${pluralWord(problems.length, 'needs', 'need')} correcting (${plural(entries.length, 'account')} ${pluralWord(entries.length, 'was', 'were')} fine). Nothing has been checked or submitted yet.`,
        shown,
      );
      return false;
    }
    if (entries.length === 0) {
      await retry('I did not find any accounts. Put one email address per line.', []);
      return false;
    }
    if (entries.length > this.maxAccounts) {
      await retry(`That list has ${plural(entries.length, 'account')}; one request may hold at most ${this.maxAccounts}. Split it into several requests.`, []);
      return false;
    }
    if (fromFile) {
      // From here on the list is the file's accounts, as text: "Edit the list" brings them back in the box.
      answer.step = 'accounts';
      answer.inputs = { accounts: fromFile.text };
    }
    if (repeats.length > 0)
      answer.inputs.repeatNotice = repeats
        .map((repeat) => `${where} ${repeat.line}: listed twice (also ${where.toLowerCase()} ${repeat.repeats}): counted once.`)
        .slice(0, PROBLEMS_SHOWN)
        .join(' ');
    return true;
  }

  /** Downloads and reads an attached CSV or XLSX; null (after saying why) when it cannot be used. */
  private async readAttachedFile(
    prompt: PromptValidatorContext<CardStepAnswer>,
    answer: CardStepAnswer,
  ): Promise<{ name: string; text: string; parsed: ParsedAccountList } | null> {
    const name = answer.inputs.name ?? 'the file';
    try {
      const file = await downloadAttachedFile(
        { name, fileType: answer.inputs.fileType ?? '', downloadUrl: answer.inputs.downloadUrl ?? '' },
        this.allowInsecureFileLinks,
      );
      const parsed = await parseAccountFile(file, undefined, this.listOptions);
      return { name, parsed, text: parsed.entries.map(entryAsLine).join('\n') };
    } catch (error) {
      const appError = findAppError(error);
      if (!appError) throw error;
      await prompt.context.sendActivity(MessageFactory.attachment(this.accountsCard(appError.userMessage, [], '')));
      return null;
    }
  }

  private async validateAttestations(prompt: PromptValidatorContext<CardStepAnswer>): Promise<boolean> {
    const answer = prompt.recognized.value;
    if (answer?.step === 'cancel' || answer?.step === 'edit') return true;
    const validations = prompt.options.validations as AttestationsValidations;
    if (answer?.step !== 'attestations') {
      await prompt.context.sendActivity(
        `Please tick the confirmations on the card and press **Submit ${plural(validations.submitCount, 'account')} to NAS**, or type **cancel**.`,
      );
      return false;
    }
    const missing = ATTESTATION_KEYS.filter((key) => answer.inputs[key] !== 'true');
    if (missing.length === 0) return true;
    await prompt.context.sendActivity(
      MessageFactory.attachment(
        attestationsCard(
          validations,
          `All four confirmations are needed before the accounts can be submitted; ${missing.length} ${pluralWord(missing.length, 'is', 'are')} not ticked.`,
          attestationsFrom(answer),
        ),
      ),
    );
    return false;
  }
}

function attestationsCard(validations: AttestationsValidations, missingNotice: string, ticked: Partial<Attestations>) {
  const data: AttestationsCardData = { organisationName: validations.organisationName, accountCount: validations.submitCount, missingNotice, ticked };
  return renderAttestationsCard(data);
}

/** The list comes from the card's box, or from a message typed or pasted into the chat. */
function accountListText(answer: CardStepAnswer): string {
  return answer.step === 'accounts' ? (answer.inputs.accounts ?? '') : (answer.inputs.text ?? '');
}

function attestationsFrom(answer: CardStepAnswer): Attestations {
  return Object.fromEntries(ATTESTATION_KEYS.map((key) => [key, answer.inputs[key] === 'true'])) as Attestations;
}
