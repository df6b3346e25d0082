import type { PictureAnswer } from './api-types';
import { barChart } from './charts';
import { announce, h, plural } from './dom';
import type { Session } from './session';

/** The picture of the work: how old the open requests are, the weekly flow in and out, and how long a decision takes. */
const WEEK_LABEL = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });

export async function renderPicture(main: HTMLElement, session: Session): Promise<void> {
  const heading = h('h1', { tabindex: -1 }, 'Picture of the work');
  main.replaceChildren(heading, h('p', { class: 'loading' }, 'Loading the figures…'));
  const picture = await session.json<PictureAnswer>('picture');
  const open = picture.openByAge.reduce((sum, band) => sum + band.submitted + band.inReview, 0);
  const overdue = picture.overdueOpen;
  const received = picture.weeks.reduce((sum, week) => sum + week.received, 0);
  const decided = picture.weeks.reduce((sum, week) => sum + week.decided, 0);
  const weeks = picture.weeks.map((week) => WEEK_LABEL.format(new Date(`${week.week}T00:00:00Z`)));
  const median =
    picture.decisions.medianWorkingDays === null
      ? 'No request has been decided in the last 12 weeks.'
      : `Median time to a decision over the last 12 weeks: ${plural(picture.decisions.medianWorkingDays, 'working day')} (${plural(picture.decisions.medianHours ?? 0, 'hour')}), across ${plural(picture.decisions.count, 'decision')}.`;

  main.replaceChildren(
    heading,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'median-heading', id: 'median' },
      h('h2', { id: 'median-heading' }, 'Time to a decision'),
      h(
        'p',
        { class: 'headline' },
        picture.decisions.medianWorkingDays === null ? 'No decisions yet' : plural(picture.decisions.medianWorkingDays, 'working day'),
      ),
      h('p', { id: 'median-text' }, median),
    ),
    h(
      'div',
      { class: 'charts' },
      barChart({
        id: 'chart-ages',
        title: 'Open requests by age',
        summary: `${plural(open, 'open request')}, by working days since submission; ${overdue} of them ${picture.overdueAfterWorkingDays} working days old or more.`,
        categoryHeader: 'Age',
        categories: picture.openByAge.map((band) => band.label),
        series: [
          { name: 'Awaiting review', className: 'bar-submitted', values: picture.openByAge.map((band) => band.submitted) },
          { name: 'In review', className: 'bar-in-review', values: picture.openByAge.map((band) => band.inReview) },
        ],
        stacked: true,
      }),
      barChart({
        id: 'chart-weeks',
        title: 'Received and decided per week',
        summary: `Over the last 12 weeks (weeks starting on Monday): ${plural(received, 'request')} received and ${decided} decided.`,
        categoryHeader: 'Week starting',
        categories: weeks,
        series: [
          { name: 'Received', className: 'bar-received', values: picture.weeks.map((week) => week.received) },
          { name: 'Decided', className: 'bar-decided', values: picture.weeks.map((week) => week.decided) },
        ],
        stacked: false,
      }),
    ),
  );
  announce('Picture of the work loaded.');
}
