import { ActivityTypes, type Middleware, type TurnContext } from 'botbuilder';
import { AppError } from '../../core/errors';
import type { Logger } from '../../core/log';

/**
 * Only our tenant's activities reach the bot. Teams states the tenant twice, in
 * conversation.tenantId and channelData.tenant.id; both, where present, must be ours, and at
 * least one must be present.
 */
export class TenantGate implements Middleware {
  constructor(
    private readonly allowedTenantId: string | undefined,
    private readonly logger: Logger,
  ) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    if (!this.allowedTenantId || this.isOurs(context)) return next();
    const activity = context.activity;
    this.logger.warn('activity.wrong_tenant', { activityType: activity.type });
    if (activity.type === ActivityTypes.Message) await context.sendActivity(new AppError('WRONG_TENANT').userMessage);
    if (activity.type === ActivityTypes.Invoke) await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 403 } });
  }

  private isOurs(context: TurnContext): boolean {
    const stated = [context.activity.conversation?.tenantId, (context.activity.channelData as { tenant?: { id?: unknown } } | undefined)?.tenant?.id].filter(
      (tenant) => tenant !== undefined && tenant !== null,
    );
    return stated.length > 0 && stated.every((tenant) => tenant === this.allowedTenantId);
  }
}
